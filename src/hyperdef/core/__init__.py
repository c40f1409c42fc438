"""Physics shared by every stage: WGS-84 frames, Earth gravity and rotation,
the standard atmosphere, point-mass dynamics and integrators."""
