"""Value graphs from condition x value tables (PC, transitive reduction, bootstrap) and steering side effects.

- :mod:`.table`: CSV tables and run folders
- :mod:`.graph`: PC edges, transitive reduction, bootstrap stability, random graphs
- :mod:`.effects`: expected vs unexpected |Δ|, train/test consistency
- :mod:`.design`: a roles x steering-conditions run design
- :mod:`.report`, :mod:`.cli`: the figure, a report section, ``vspec graph``
"""
