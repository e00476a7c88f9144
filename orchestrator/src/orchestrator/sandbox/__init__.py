"""The playground's sandbox identities: simulated customers that can never be a real number."""
