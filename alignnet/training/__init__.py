"""Training AlignNet: packed-split datasets (`data`), the loop (`loop`), the `alignnet train` command."""
