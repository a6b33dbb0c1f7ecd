"""Signer: the only holder of the private key; record.matched → signed card + card.issued."""
