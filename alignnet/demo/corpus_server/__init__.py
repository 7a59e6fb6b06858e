"""A corpus directory served as a video site on loopback, with fault injection (for yt-dlp tests and the demo)."""

from alignnet.demo.corpus_server.faults import FaultKind, FaultPlan, fault_plan, parse_fault
from alignnet.demo.corpus_server.site import (
    CorpusServer,
    CorpusVideo,
    RequestRecord,
    load_corpus,
)

__all__ = [
    "CorpusServer",
    "CorpusVideo",
    "FaultKind",
    "FaultPlan",
    "RequestRecord",
    "fault_plan",
    "load_corpus",
    "parse_fault",
]
