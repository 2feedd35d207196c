"""The programme: importing it, looking sessions up, its pages and JSON."""
