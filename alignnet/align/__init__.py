"""`alignnet align`: re-time a dance (or speech) video so that its motion follows an audio track.

The paper's retargeting (section 4.5). Modules: `media` (check the user's
files, 30 fps video, decoded audio), `preprocessing` (the training's log-mel
settings and statistics), `windows` (the model over any length in overlapping
windows, stitched into one monotonic map), `retime` (invert the map, render the
re-timed video with the new audio), `pipeline` (everything in order),
`command` (the CLI).

Exit codes of `alignnet align` besides 0 (a UserInputError carries one):
"""

EXIT_UNREADABLE = 2  # a missing or unreadable file: VIDEO, AUDIO, the checkpoint, --pose-json
EXIT_NO_STREAM = 3  # VIDEO without a video stream, AUDIO without an audio stream
EXIT_NO_PERSON = 4  # nobody (or not the whole body) found in VIDEO
