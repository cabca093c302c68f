"""Short-term traffic forecasting from simulated history: flow and speed per detector and approach
at +15/+30/+60 minutes with 80 % intervals (LightGBM, the only place it is imported), and the
historical-average, persistence and seasonal-naive baselines it is measured against."""
