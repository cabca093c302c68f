"""Camera vehicle detection (YOLO): the only package that imports ultralytics."""
