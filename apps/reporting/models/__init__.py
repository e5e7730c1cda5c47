"""Reporting's tables: the settings people edit (attribution rules, fatigue thresholds), the
attribution and daily rollups the dashboard reads, the fatigue guard's breaches, and the
compliance records (audit reports and their findings, retention runs)."""

from apps.reporting.models.audit import (
    AuditCheck,
    AuditFinding,
    AuditReport,
    AuditTrail,
    RetentionRun,
)
from apps.reporting.models.facts import (
    Attribution,
    ConversionKind,
    DailyRollup,
    RollupRefresh,
    RollupState,
    TouchType,
)
from apps.reporting.models.settings import (
    AttributionModel,
    AttributionSettings,
    FatigueBreach,
    FatigueMetric,
    FatigueSettings,
)

__all__ = [
    "Attribution",
    "AttributionModel",
    "AttributionSettings",
    "AuditCheck",
    "AuditFinding",
    "AuditReport",
    "AuditTrail",
    "ConversionKind",
    "DailyRollup",
    "FatigueBreach",
    "FatigueMetric",
    "FatigueSettings",
    "RetentionRun",
    "RollupRefresh",
    "RollupState",
    "TouchType",
]
