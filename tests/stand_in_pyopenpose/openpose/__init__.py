"""Stand-in for OpenPose's Python package (tests only; see ../README.md). Not OpenPose."""
