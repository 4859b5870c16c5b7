"""Generated TextWorld cooking games (TextWorld's tw-cooking generator): long, changing action lists, unseen games."""
