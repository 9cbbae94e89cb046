"""What a person reads about a model: the HTML report and the plots (computation lives in
``modeling`` and ``explain``; this package only draws and writes)."""
