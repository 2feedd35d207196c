"""The media engine's figures for ``/metrics``, read at scrape time (nothing per packet)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from server.media import aiortc_glue
from server.media.cluster import MediaCluster
from server.media.engine import ForwardingCounts, MediaEngine
from server.media.hls.service import HlsPackaging

HELP = {
    "received": "RTP packets received from publishers.",
    "forwarded": "RTP packets sent to viewers (first transmissions).",
    "retransmitted": "RTP packets sent again to viewers who reported them lost (NACK).",
    "duplicates": "Packets from publishers dropped as already held.",
    "backed_up": "Times a viewer's socket backed up and it skipped to the next keyframe.",
}


class MediaCollector(Collector):
    def __init__(self, engine: MediaEngine, hls: HlsPackaging) -> None:
        self._engine = engine
        self._hls = hls

    def collect(self) -> Iterator[Metric]:
        engine = self._engine
        yield GaugeMetricFamily(
            "plenaria_hls_channels", "Panels being packaged for HLS here (one worker each).",
            value=len(self._hls.channels),
        )  # fmt: skip
        yield CounterMetricFamily(
            "plenaria_hls_parts", "LL-HLS parts made here.", value=self._hls.parts
        )
        publications = GaugeMetricFamily(
            "plenaria_media_publications", "Live publications.", labels=["stream"]
        )
        panels = sum(key.is_panel for key in engine.publications)
        publications.add_metric(["panel"], panels)
        publications.add_metric(["call"], len(engine.publications) - panels)
        yield publications
        yield GaugeMetricFamily(
            "plenaria_media_viewers", "Connected viewers (WHEP and break-out watches).",
            value=len(engine.viewers),
        )  # fmt: skip
        totals = {kind: replace(counts) for kind, counts in engine.retired_totals.items()}
        for publication in engine.publications.values():
            for kind, forwarder in publication.streams.items():
                totals.setdefault(kind, ForwardingCounts()).add(forwarder)
        for name, help_text in HELP.items():
            family = CounterMetricFamily(
                f"plenaria_media_packets_{name}", help_text, labels=["kind"]
            )
            for kind, total in sorted(totals.items()):
                family.add_metric([kind], getattr(total, name))
            yield family
        dropped = CounterMetricFamily(
            "plenaria_media_datagrams_dropped",
            "Datagrams aiortc could not take (empty, oversized, lying lengths), dropped rather "
            "than ending the connection; counted for the whole process.",
            labels=["error"],
        )
        for error, count in sorted(aiortc_glue.dropped_datagrams.items()):
            dropped.add_metric([error], count)
        yield dropped
        loss = GaugeMetricFamily(
            "plenaria_media_viewer_loss_ratio",
            "Fraction of packets lost to viewers, from their last receiver reports.",
            labels=["statistic"],
        )
        rtt = GaugeMetricFamily(
            "plenaria_media_viewer_round_trip_seconds",
            "Round-trip time to viewers, from their last receiver reports.",
            labels=["statistic"],
        )
        reports = [
            s.subscriber.report
            for viewer in engine.viewers.values()
            for s in viewer.subscriptions
            if s.subscriber.report is not None
        ]
        if reports:
            losses = [r.fraction_lost for r in reports]
            loss.add_metric(["mean"], sum(losses) / len(losses))
            loss.add_metric(["max"], max(losses))
            trips = [r.round_trip_time for r in reports if r.round_trip_time is not None]
            if trips:
                rtt.add_metric(["mean"], sum(trips) / len(trips))
                rtt.add_metric(["max"], max(trips))
        yield loss
        yield rtt


class ClusterCollector(Collector):
    """The media nodes this process knows of, as of its last heartbeat."""

    def __init__(self, cluster: MediaCluster) -> None:
        self._cluster = cluster

    def collect(self) -> Iterator[Metric]:
        cluster = self._cluster
        yield GaugeMetricFamily(
            "plenaria_media_nodes", "Media nodes alive (heartbeats within their time to live).",
            value=len(cluster.nodes),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "plenaria_media_relays", "Panels relayed here from their origin on another node.",
            value=sum(p.relay_of is not None for p in cluster.engine.publications.values()),
        )  # fmt: skip
        info = GaugeMetricFamily(
            "plenaria_media_node_info", "This node's id and address.", labels=["node", "url"]
        )
        info.add_metric([cluster.id, cluster.url], 1)
        yield info
        loads = {
            "viewers": GaugeMetricFamily(
                "plenaria_media_node_viewers", "Viewers per node.", labels=["node"]
            ),
            "cpu_percent": GaugeMetricFamily(
                "plenaria_media_node_cpu_percent",
                "CPU per node (% of what it may use of one core).",
                labels=["node"],
            ),
            "packets_per_second": GaugeMetricFamily(
                "plenaria_media_node_packets_per_second",
                "Packets forwarded per second per node.",
                labels=["node"],
            ),
        }
        for node in cluster.nodes:
            for field, family in loads.items():
                family.add_metric([node.id], getattr(node.load, field))
        yield from loads.values()
