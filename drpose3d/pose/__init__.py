"""The geometry of poses and the paper's maths on them: joints, cameras (Eq. 7), depth ranking (Eq. 1) and metrics."""
