"""``clearhouse scan-text`` (registered by the detection work; placeholder until then)."""
