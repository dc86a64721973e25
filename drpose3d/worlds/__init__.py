"""Where motion comes from (the generated world, generic mocap files, Human3.6M files), the
per-camera samples and protocol splits built from it, and the virtual cameras of Sec. 3.3."""
