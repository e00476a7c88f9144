"""The product catalog mirror (rows in `products`) and its change hook."""
