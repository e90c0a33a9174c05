"""What the notebook shows: the stream view, the task card, the settings and task tables, and
the HTML helpers every view escapes with."""
