"""Reading a stored answer the way it was asked.

A response is only meaningful next to the prompt it answered: which labels were shown, in
which order (reversed label orders are the position-bias control), in which prompt style.
:func:`interpret` re-renders the prompt (rendering is deterministic), parses the answer as
presented and maps it back to the probe's own answer space.
"""

from __future__ import annotations

from valuespectrum.personas import Persona
from valuespectrum.probes.render import RenderedProbe, render_probe
from valuespectrum.probes.schema import Probe
from valuespectrum.probes.wordings import Wording
from valuespectrum.scoring.parse import ParsedAnswer, parse_answer
from valuespectrum.types import ModelResponse, PromptStyle


def interpret(
    probe: Probe,
    persona: Persona | None,
    order: str,
    response: ModelResponse,
    *,
    use_logprobs: bool,
    variant: str = "",
    style: PromptStyle = "plain",
    wording: Wording | None = None,
) -> ParsedAnswer:
    """Parse a stored response as it was presented, then map it to the probe's own terms."""
    rendered = render_as_asked(probe, persona, order, variant=variant, style=style, wording=wording)
    return read_rendered(rendered, response, use_logprobs=use_logprobs)


def render_as_asked(
    probe: Probe,
    persona: Persona | None,
    order: str,
    *,
    variant: str,
    style: PromptStyle,
    wording: Wording | None,
) -> RenderedProbe:
    """The prompt a request of this order (``fwd``/``rev``) and variant (``text``: no image) showed."""
    return render_probe(
        probe,
        persona,
        reverse_labels=(order == "rev"),
        text_only=(variant == "text"),
        style=style,
        wording=wording,
    )


def read_rendered(rendered: RenderedProbe, response: ModelResponse, *, use_logprobs: bool) -> ParsedAnswer:
    """The answer to ``rendered`` parsed as presented and mapped back to the probe's own terms
    (the second half of :func:`interpret`, for callers that keep the rendered prompt)."""
    answer = parse_answer(rendered.presented, response, rendered.option_values, use_logprobs=use_logprobs)
    if answer.status == "parsed" and answer.value is not None:
        answer = answer.model_copy(update={"value": rendered.true_value(answer.value)})
    return answer
