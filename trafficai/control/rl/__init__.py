"""Reinforcement-learning signal control: environments, training, the RL controller, the policy zoo.

Only :mod:`.policies` and :mod:`.vec_env` import stable-baselines3 (and torch) at module level;
:mod:`.training`, :mod:`.model` and :mod:`.controller` import them inside the functions that need
them, so importing the environments, the controller registry or the CLI loads neither.
See docs/rl.md.
"""
