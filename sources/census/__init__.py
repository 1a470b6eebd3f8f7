"""Census microdata: codebooks, the synthetic census generator, and the canonical variables."""
