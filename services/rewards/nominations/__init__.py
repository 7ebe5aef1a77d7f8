"""Nominations: brave-act awards (见义勇为) and good-neighbour honours (魏村好人)."""
