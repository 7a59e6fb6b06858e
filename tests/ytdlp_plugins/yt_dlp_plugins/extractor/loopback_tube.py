"""A yt-dlp extractor plugin for the tests: the loopback corpus site's watch pages, as YouTube behaves.

Like YouTube's extractor (and unlike the generic one) its `_VALID_URL` carries
the video id, so yt-dlp checks the download archive against that id before
extracting anything (`YoutubeDL.extract_info`, `InfoExtractor.get_temp_id`).
yt-dlp loads it when tests/ytdlp_plugins is on sys.path (PYTHONPATH for
subprocesses): plugin packages are found on sys.path.
"""

from yt_dlp.extractor.common import InfoExtractor


class LoopbackTubeIE(InfoExtractor):
    IE_NAME = "loopbacktube"
    _VALID_URL = r"https?://(?:127\.0\.0\.1|localhost):\d+/watch/(?P<id>[A-Za-z0-9_-]+)"

    def _real_extract(self, url):
        video_id = self._match_id(url)
        webpage = self._download_webpage(url, video_id)
        info = self._search_json_ld(webpage, video_id, expected_type="VideoObject")
        return {
            **info,
            "id": video_id,
            "title": info.get("title") or self._og_search_title(webpage),
            "uploader": self._html_search_meta("author", webpage, "uploader"),
            "ext": "mp4",
        }
