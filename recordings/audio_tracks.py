"""A recording's interpretation channels as audio files of their own.

The recording holds every channel as a language-tagged audio track, but browsers other than
Safari cannot switch a file's audio tracks (Chrome does not expose ``audioTracks``), so each
channel is also copied out (no re-encoding) into an audio-only WebM the replay plays in step
with the video."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import av

from recordings.recorder import ISO_639_2T


def extract_language_tracks(
    source: Path, languages: list[str], destination_for: Callable[[str], Path]
) -> list[str]:
    """Copy the audio track tagged with each of ``languages`` out of ``source``; the
    languages that had any sound (an empty track makes no file). Runs off the event loop."""
    made: list[str] = []
    with av.open(str(source)) as container:
        by_language: dict[str, Any] = {}
        for stream in container.streams.audio[1:]:  # the first is the floor's
            language = stream.metadata.get("language", "")
            for wanted in languages:
                if language in (wanted, ISO_639_2T.get(wanted, wanted)):
                    by_language.setdefault(wanted, stream)
        for language, stream in by_language.items():
            destination = destination_for(language)
            written = 0
            with av.open(str(destination), "w", format="webm") as output:
                copy = output.add_stream_from_template(stream)
                copy.metadata["language"] = language
                container.seek(0)
                for packet in container.demux(stream):
                    if packet.dts is None:
                        continue
                    packet.stream = copy
                    output.mux(packet)
                    written += 1
            if written:
                made.append(language)
            else:
                destination.unlink(missing_ok=True)
    return made
