"""Value neurons: MLP intermediate units whose activations separate opposing value aspects.

- :mod:`.aspects`: aspect-A / aspect-B texts from contrastive pairs (higher-order contrasts,
  or a basic value against the value across the circle), context controlled
- :mod:`.stats`: streamed per-neuron statistics (float64 Welford, padding excluded)
- :mod:`.locate`: standardised differences, top-k selection, :class:`NeuronSet` (safetensors + JSON)
- :mod:`.edit`: :func:`edit_neurons` (scale, shift, patch) as a context manager that restores the model
- :mod:`.backend`: :class:`NeuronEditedBackend`, a backend answering under a neuron edit
- :mod:`.readout`: held-out 1-D readout accuracy of a neuron set

Heavy dependencies (torch, transformers) load inside functions.
"""
