"""The ipywidgets forms (`yjnb.form`, `%yj_video` with no prompt) and their fields."""
