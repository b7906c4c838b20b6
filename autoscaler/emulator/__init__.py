"""The simulator's cluster served over the real protocols (YARN RM REST, EMR JSON API)."""
