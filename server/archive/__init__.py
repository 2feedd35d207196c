"""Recording live sessions and the replay archive's routes."""
