"""Federated training of the portable signal policy across sites (Flower; ``trafficai federated``).

``sites`` (what a site is), ``flower_app`` (the only module importing Flower: rounds on Flower's
simulation engine), ``compare`` (federated vs centralised vs local-only on the same budget,
evaluated on every site and a held-out one), ``traffic`` (what raw bins would have cost).
"""
