"""Conversation transcripts by e-mail: who may receive one, how often, and the owner's domains."""
