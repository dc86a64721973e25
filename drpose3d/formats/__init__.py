"""Motion files: the package's own mocap .npz (and its in-memory form, :class:`~.mocap.Mocap`),
VideoPose3D's Human3.6M .npz, and the BVH and ASF/AMC captures that ``drpose3d data import``
turns into mocap files."""
