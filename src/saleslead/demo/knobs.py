"""The realism knobs of the demo company: segment profiles, the stage process, channels, seasonality.

Everything the generator draws from is parameterised here, in one place, so a test or a reader can see
what "realistic" means for this synthetic org. The stage names live only in the demo: the rest of
saleslead learns stages from the data it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCOUNT_ADJECTIVES",
    "ACCOUNT_NOUNS",
    "ACCOUNT_SUFFIXES",
    "CHANNELS",
    "CHANNEL_QUALIFY",
    "CHANNEL_SHARE",
    "COUNTRIES",
    "COUNTRY_SHARE",
    "CREATION_MONTH_FACTOR",
    "FIRST_NAMES",
    "FORECAST_CATEGORIES",
    "INDUSTRIES",
    "LAST_NAMES",
    "LOST_LINGER",
    "LOST_LINGER_SHARE",
    "PRODUCTS",
    "PRODUCT_AMOUNT",
    "PRODUCT_SHARE",
    "QUARTER_END_PULL",
    "QUARTER_SHOCK_SD",
    "QUARTER_WIN_FACTOR",
    "SEGMENTS",
    "STAGES",
    "STAGE_FORECAST",
    "STAGE_PROBABILITY",
    "TASK_SUBJECTS",
    "TYPES",
    "TYPE_AMOUNT",
    "TYPE_SHARE",
    "TYPE_WIN",
    "SegmentProfile",
]

#: Open stages in order, then the two closed stages (index 5 won, index 6 lost).
STAGES = (
    "Qualification",
    "Discovery",
    "Solution",
    "Proposal",
    "Negotiation",
    "Closed Won",
    "Closed Lost",
)
STAGE_PROBABILITY = (10, 20, 40, 60, 80, 100, 0)
FORECAST_CATEGORIES = ("Pipeline", "Best Case", "Commit", "Closed", "Omitted")
#: Default forecast category (index into FORECAST_CATEGORIES) a stage sets when it is entered.
STAGE_FORECAST = (0, 0, 0, 1, 2, 3, 4)


@dataclass(frozen=True)
class SegmentProfile:
    """How one segment sells: deal size, cycle, win rate, team shape and productivity."""

    name: str
    amount_median: float  # lognormal median of the first quoted amount
    amount_sigma: float
    stage_days: tuple[float, float, float, float, float]  # median dwell per open stage
    dwell_sigma: float  # lognormal sigma of the dwell
    advance: tuple[float, float, float, float, float]  # base chance to leave each open stage forward
    stale_decay: float  # how fast the chance to advance decays once a deal overstays its stage
    ae_share: float  # share of the AE headcount
    ae_rate: float  # opportunities an AE sources per week, fully ramped
    sdr_per_ae: float  # SDRs per AE
    sdr_rate: float  # opportunities an SDR books per week, fully ramped
    ramp_days: int  # days until a new AE is fully productive
    push_days: int  # how far a rep pushes a slipped close date
    employees: tuple[int, int, float]  # NumberOfEmployees: low, high, lognormal median
    tasks_per_week: float  # logged activities per open week


SEGMENTS: tuple[SegmentProfile, ...] = (
    SegmentProfile(
        name="SMB",
        amount_median=21_000.0,
        amount_sigma=0.55,
        stage_days=(4.0, 6.0, 7.0, 8.0, 8.0),
        dwell_sigma=0.6,
        advance=(0.91, 0.91, 0.89, 0.9, 0.92),
        stale_decay=0.45,
        ae_share=0.42,
        ae_rate=3.0,
        sdr_per_ae=0.5,
        sdr_rate=2.0,
        ramp_days=90,
        push_days=14,
        employees=(10, 199, 60.0),
        tasks_per_week=1.2,
    ),
    SegmentProfile(
        name="Mid-Market",
        amount_median=90_000.0,
        amount_sigma=0.6,
        stage_days=(7.0, 11.0, 14.0, 16.0, 18.0),
        dwell_sigma=0.6,
        advance=(0.88, 0.89, 0.87, 0.88, 0.89),
        stale_decay=0.45,
        ae_share=0.35,
        ae_rate=1.4,
        sdr_per_ae=0.4,
        sdr_rate=1.0,
        ramp_days=135,
        push_days=30,
        employees=(200, 1_999, 600.0),
        tasks_per_week=0.9,
    ),
    SegmentProfile(
        name="Enterprise",
        amount_median=400_000.0,
        amount_sigma=0.65,
        stage_days=(12.0, 22.0, 30.0, 36.0, 40.0),
        dwell_sigma=0.55,
        advance=(0.86, 0.86, 0.84, 0.86, 0.84),
        stale_decay=0.45,
        ae_share=0.23,
        ae_rate=0.55,
        sdr_per_ae=0.3,
        sdr_rate=0.5,
        ramp_days=180,
        push_days=45,
        employees=(2_000, 150_000, 8_000.0),
        tasks_per_week=0.6,
    ),
)

#: Lead sources; "Outbound SDR" is what SDRs book, the others are sourced by AEs.
CHANNELS = ("Inbound", "Outbound SDR", "Partner", "Event", "Customer Referral")
#: Share of the AE-sourced opportunities per channel (Outbound SDR is 0: SDRs book those).
CHANNEL_SHARE = (0.48, 0.0, 0.2, 0.14, 0.18)
#: Multiplier on the chance to get past Qualification and Discovery (a channel's yield).
CHANNEL_QUALIFY = (1.0, 0.86, 1.08, 0.9, 1.16)

TYPES = ("New Business", "Expansion", "Renewal")
#: Share of the AE-sourced opportunities per type (SDR-booked ones are all New Business).
TYPE_SHARE = (0.66, 0.24, 0.10)
TYPE_AMOUNT = (1.0, 0.45, 0.8)
#: Multiplier on the chance to win a deal that reached Negotiation.
TYPE_WIN = (1.0, 1.12, 1.2)

PRODUCTS = ("Core Platform", "Analytics", "Integrations", "Security Suite")
PRODUCT_SHARE = (0.5, 0.22, 0.16, 0.12)
PRODUCT_AMOUNT = (1.0, 0.7, 0.5, 0.9)

#: Creation multiplier by calendar month (August slow, December holidays).
CREATION_MONTH_FACTOR = (1.0, 1.0, 1.05, 1.0, 1.0, 0.95, 0.9, 0.72, 1.05, 1.05, 1.0, 0.8)
#: Win multiplier by fiscal quarter (Q1 soft, Q4 strong).
QUARTER_WIN_FACTOR = (0.95, 1.0, 1.0, 1.07)
#: Chance that a deal won in a quarter signs in that quarter's last ten days (by fiscal quarter).
QUARTER_END_PULL = (0.3, 0.3, 0.3, 0.45)
#: Standard deviation of the log of the common per-quarter win-rate multiplier.
QUARTER_SHOCK_SD = 0.13
#: Share of lost deals that linger open (pushed, without activity) before someone marks them lost, and
#: the median linger as a share of the segment's typical won cycle.
LOST_LINGER_SHARE = 0.7
LOST_LINGER = 0.8

TASK_SUBJECTS = ("Call", "Email", "Meeting", "Demo", "Follow-up", "Send proposal", "Check-in")

INDUSTRIES = (
    "Technology",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Media",
    "Logistics",
    "Energy",
    "Government",
)
COUNTRIES = ("United States", "United Kingdom", "Germany", "France", "Canada", "Australia", "Netherlands")
COUNTRY_SHARE = (0.52, 0.12, 0.1, 0.07, 0.08, 0.06, 0.05)

ACCOUNT_ADJECTIVES = (
    "Acme", "Blue", "Bright", "Cedar", "Crown", "Delta", "Eagle", "Echo", "Evergreen", "First",
    "Golden", "Granite", "Harbor", "Iron", "Lake", "Maple", "Meridian", "Nova", "Oak", "Orion",
    "Pacific", "Pine", "Pioneer", "Prime", "Quantum", "Red", "River", "Silver", "Summit", "Vertex",
)  # fmt: skip
ACCOUNT_NOUNS = (
    "Analytics", "Bank", "Brands", "Capital", "Dynamics", "Energy", "Foods", "Health", "Industries",
    "Labs", "Logistics", "Media", "Motors", "Networks", "Partners", "Pharma", "Retail", "Robotics",
    "Software", "Systems",
)  # fmt: skip
ACCOUNT_SUFFIXES = ("Inc", "LLC", "Ltd", "Group", "Corp", "GmbH", "Co", "plc")
FIRST_NAMES = (
    "Alex", "Amara", "Ana", "Ben", "Carla", "Chen", "Dana", "David", "Elena", "Emma", "Farah", "Grace",
    "Hiro", "Ines", "Jamal", "James", "Julia", "Kai", "Laura", "Leo", "Maya", "Mei", "Noah", "Olivia",
    "Omar", "Priya", "Rafael", "Sara", "Tom", "Yusuf",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan",
    "Kim", "Lopez", "Martin", "Müller", "Nguyen", "Okafor", "Patel", "Rossi", "Silva", "Smith", "Tanaka",
    "Walker", "Weber", "Young",
)  # fmt: skip
