"""The labelled evaluation of detection (SPEC 5, issue 3 "How good it must be").

`generator` makes realistic synthetic traffic for several programs, deterministic by seed, with a
label per event kept outside the event body; `replay` sends it through the system's API (the local
system over HTTP, the same app in process on moto, or on the in-memory storage fake) and reads back
every decision; `report` prints precision and recall of flags per pattern and overall, and the
false-flag rate on ordinary traffic. `python -m evaluation --help`.
"""
