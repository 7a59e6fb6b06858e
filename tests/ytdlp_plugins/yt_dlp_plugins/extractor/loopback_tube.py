"""A yt-dlp extractor plugin for the tests: the loopback corpus site's watch pages, as YouTube behaves.

Like YouTube's extractor (and unlike the generic one) its `_VALID_URL` carries
the video id, so yt-dlp checks the download archive against that id before
extracting anything (`YoutubeDL.extract_info`, `InfoExtractor.get_temp_id`).
yt-dlp loads it when tests/ytdlp_plugins is on sys.path (PYTHONPATH for
subprocesses): plugin packages are found on sys.path.
"""

from yt_dlp.extractor.common import InfoExtractor, SearchInfoExtractor


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


class LoopbackSearchIE(SearchInfoExtractor):
    """`loopbacksearchN:BASE_URL words`: the site's videos as Bilibili's search lists them, flat
    entries with only a URL and an id (no title, no duration); the words are ignored."""

    IE_NAME = "loopbacksearch"
    _SEARCH_KEY = "loopbacksearch"
    _MAX_RESULTS = 1000

    def _search_results(self, query):
        base_url = query.split()[0].rstrip("/")
        feed = self._download_xml(f"{base_url}/feed.xml", "loopbacksearch", note="Searching the loopback site")
        for item in feed.findall("./channel/item"):
            yield self.url_result(item.findtext("link"), LoopbackTubeIE, item.findtext("guid"))
