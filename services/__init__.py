"""The five vaxrec services. None imports another."""
