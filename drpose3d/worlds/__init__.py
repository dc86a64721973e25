"""The worlds a run is built on (the generated world, or motion read from files by
:mod:`drpose3d.formats`), the per-camera samples and protocol splits built from them, and the
virtual cameras of Sec. 3.3."""
