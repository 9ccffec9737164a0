"""The thesis' own INN (chapter 3) and its data: the baseline the shipped network is
compared with (docs: Validation)."""
