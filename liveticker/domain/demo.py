"""Demo content for `liveticker serve --demo`: a live blog in English and in Arabic, a closed
one, and their accounts.

The stories, places and people are invented. Everything is written through the domain
functions, then back-dated so the page reads like a story that has run since yesterday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from liveticker.domain import teams
from liveticker.domain.accounts import Actor, Role, create_user
from liveticker.domain.blogs import close_blog, create_blog, publish_blog, set_key_points
from liveticker.domain.inputs import (
    BlogCreate,
    CloseInput,
    DeleteInput,
    ImageInput,
    KeyPointsInput,
    PostCreate,
    PostUpdate,
    SocialInput,
)
from liveticker.domain.posts import create_post, delete_post, update_post
from liveticker.storage.models import Blog, Post, Revision, User, utcnow

# Local-demo-only credentials, printed by `serve --demo`: never keep this account on a
# server that other people can reach.
DEMO_USERNAME = "editor"
DEMO_PASSWORD = "liveticker-demo"  # noqa: S105 - documented demo-only password
REPORTER_USERNAME = "reporter"
DEMO_WRITING_IMPACT = 5  # the default threshold; the demo's writers are granted writing

CREDIT = "Image: Liveticker demo/illustration"
EDIT_DELAY = timedelta(minutes=24)
DELETE_DELAY = timedelta(minutes=12)
SOCIAL_LEAD = timedelta(minutes=3)
ARABIC_SLUG = "storm-idris-arabic"  # the flood story from the Arabic desk (demo_arabic.py)


def demo_image(name: str, *, alt: str, caption: str, credit: str = CREDIT) -> ImageInput:
    """One of the demo's illustrations in web/static/demo/."""
    return ImageInput(url=f"/static/demo/{name}.svg", alt=alt, caption=caption, credit=credit)


@dataclass(frozen=True)
class DemoPost:
    """One post, published `minutes_ago` before the demo is created."""

    minutes_ago: int
    headline: str | None
    body: str
    images: tuple[ImageInput, ...] = ()
    social: SocialInput | None = None  # its posted_at is set to just before the post
    pinned: bool = False
    key_event: bool = False
    correction: str | None = None  # a new body, saved EDIT_DELAY after publication
    delete_reason: str | None = None  # deleted DELETE_DELAY after publication


@dataclass(frozen=True)
class DemoBlog:
    """A blog that went live `minutes_ago` before the demo, with its posts oldest first."""

    minutes_ago: int
    blog: BlogCreate
    posts: tuple[DemoPost, ...]
    key_points: tuple[str, ...] = ()
    closed_minutes_ago: int | None = None
    closing_message: str = ""
    language: str = "en"
    translations: tuple[str, ...] = ()  # the slugs of the same story in other languages
    theme: str = ""


LIVE_BLOG = DemoBlog(
    minutes_ago=1230,
    translations=(ARABIC_SLUG,),
    blog=BlogCreate(
        slug="storm-idris-elde-floods",
        title="Storm Idris: river Elde bursts its banks in Marrow and Hollin",
        standfirst=(
            "Hundreds of homes have been evacuated after the river Elde rose above its "
            "record level. Rescue crews are working street by street in the lower valley."
        ),
        labels=["Weather", "Elde Valley"],
        lead_image=demo_image(
            "flood-river",
            alt="Illustration: brown floodwater around houses at the edge of a town, "
            "under dark rain clouds",
            caption="Floodwater has reached the houses at the edge of Marrow's Quay district",
        ),
    ),
    key_points=(
        "The Elde burst its banks at **Tanner's Bridge** in Marrow; water is up to a metre "
        "deep in the Quay district.",
        "About 300 homes in Marrow and Hollin have been evacuated. A rest centre is open at "
        "Hollin Community School.",
        "A severe flood warning (*danger to life*) is in force for the lower Elde: "
        "[check the current warnings](https://example.org/elde-valley/flood-warnings).",
        "The Marrow ring road and every Elde crossing between Marrow and Hollin are closed.",
    ),
    posts=(
        DemoPost(
            minutes_ago=1212,
            headline="Flood warnings issued as Storm Idris reaches the Elde valley",
            body=(
                "The National Weather Office has issued a **severe flood warning** for the "
                "lower river Elde as Storm Idris brings a second day of heavy rain.\n\n"
                "Up to 90 mm of rain is forecast to fall on the hills above Marrow before the "
                "storm clears. The river was already running high after a wet fortnight, and "
                "Elde Valley Council has opened its emergency control room as a precaution.\n\n"
                "We will bring you the latest here as the situation develops."
            ),
        ),
        DemoPost(
            minutes_ago=1196,
            headline="How to stay safe, and who to call",
            pinned=True,
            body=(
                "If you live near the river Elde, the council and the fire service ask you to:\n\n"
                "- move valuables, medicines and important papers upstairs;\n"
                "- switch off gas and electricity at the mains if water is about to come in;\n"
                "- never walk or drive through floodwater: 30 cm of moving water can float "
                "a car;\n"
                "- check on neighbours who may need help.\n\n"
                "**Flood line** (Elde Valley Council, day and night): 0100 555 0142. If a life "
                "is in danger, call the emergency services.\n\n"
                "The rest centre at Hollin Community School, Mill Lane, is open to anyone who "
                "has had to leave home. Pets are welcome."
            ),
        ),
        DemoPost(
            minutes_ago=1121,
            headline="Sandbags handed out at Tanner's Bridge",
            body=(
                "Council staff are handing out sandbags from a depot beside Tanner's Bridge, "
                "where the Elde runs closest to Marrow's old town.\n\n"
                "Residents queued in the rain to fill their car boots. *“We were flooded in "
                "2024 and we are not waiting to see if it happens again,”* said Ines Okafor, "
                "who runs a bakery on Quay Street.\n\n"
                "In March 2024 the river came within centimetres of the top of the quay wall "
                "and flooded the cellars behind it."
            ),
            images=(
                demo_image(
                    "sandbags-bridge",
                    alt="Illustration: a wall of sandbags and two traffic cones in front of "
                    "a three-arched stone bridge over a swollen river",
                    caption="FILE: 12 March 2024 — Sandbags at Tanner's Bridge during the "
                    "last major flood on the Elde",
                    credit="Image: Liveticker demo/archive",
                ),
            ),
        ),
        DemoPost(
            minutes_ago=1004,
            headline="River passes its record level at Marrow",
            body=(
                "The gauge at Marrow has reached **4.62 metres**, eleven centimetres above "
                "the record set in March 2024, the National Weather Office says.\n\n"
                "Forecaster Dev Malhotra said the river would keep rising for several hours "
                "because rain that fell on the upper valley is still on its way downstream."
            ),
        ),
        DemoPost(
            minutes_ago=911,
            headline="River Elde bursts its banks in Marrow",
            key_event=True,
            body=(
                "The Elde has come over the quay wall at Tanner's Bridge and is flowing into "
                "the streets of the Quay district.\n\n"
                "Fire crews are going door to door on Quay Street, Rope Walk and Fuller's "
                "Yard, asking people to leave. Police have closed the Marrow ring road between "
                "the bridge and the railway station.\n\n"
                "The map below shows the area the fire service says is affected."
            ),
            images=(
                demo_image(
                    "river-bend-map",
                    alt="Illustrated map: a river bend with a hatched flood zone on both "
                    "banks, a bridge, and a red marker at the crossing",
                    caption="The flooded area around the river bend at Marrow, as described "
                    "by the fire service. Not to scale.",
                    credit="Image: Liveticker demo/map",
                ),
            ),
        ),
        DemoPost(
            minutes_ago=858,
            headline="Fire service: 'Do not try to collect your car'",
            body=(
                "Elde Valley Fire and Rescue has repeated its warning to people driving into "
                "the Quay district to move their cars. Two drivers had to be helped out of "
                "their vehicles near the station."
            ),
            social=SocialInput(
                url="https://social.example.org/@EldeValleyFire/48213",
                author_name="Elde Valley Fire and Rescue",
                handle="EldeValleyFire",
                text=(
                    "Please stay out of the Quay district in #Marrow. Water is waist-deep on "
                    "Rope Walk and still rising. A car can be replaced; you cannot. Follow "
                    "the advice of crews on the ground."
                ),
            ),
        ),
        DemoPost(
            minutes_ago=781,
            headline="Hundreds of homes evacuated",
            body=(
                "About 200 homes in Marrow's Quay district and the village of Hollin have "
                "been evacuated, Elde Valley Council says.\n\n"
                "The rest centre at Hollin Community School has taken in more than 80 people "
                "so far. Members of Hollin Rowing Club are bringing blankets and hot food."
            ),
            correction=(
                "About **300** homes in Marrow's Quay district and the village of Hollin have "
                "been evacuated, Elde Valley Council says.\n\n"
                "The rest centre at Hollin Community School has taken in more than 80 people "
                "so far. Members of Hollin Rowing Club are bringing blankets and hot food.\n\n"
                "*Correction: an earlier version of this post said about 200 homes had been "
                "evacuated. The council has since corrected its figure.*"
            ),
        ),
        DemoPost(
            minutes_ago=702,
            headline="Boat crews rescue residents in Hollin",
            body=(
                "Fire service boat crews have taken 14 people, among them two children and a "
                "man in a wheelchair, from houses in Hollin where the water has reached the "
                "ground-floor windows.\n\n"
                "The village sits on the inside of the river bend below Marrow, and its only "
                "road out runs along the riverbank."
            ),
            images=(
                demo_image(
                    "rescue-boat",
                    alt="Illustration: three rescuers in helmets and red life jackets in an "
                    "orange inflatable boat, in floodwater in front of houses",
                    caption="A rescue boat on Church Lane in Hollin",
                ),
            ),
        ),
        DemoPost(
            minutes_ago=641,
            headline="Railway line to Hollin flooded",
            body="Trains between Marrow and Hollin are suspended after Hollin station flooded.",
            delete_reason=(
                "Wrong: the operator closed the line as a precaution; the station is not "
                "flooded. Replaced by the travel round-up."
            ),
        ),
        DemoPost(
            minutes_ago=614,
            headline="Travel: what is closed",
            body=(
                "- **Roads:** the Marrow ring road between Tanner's Bridge and the station, "
                "and the valley road to Hollin.\n"
                "- **Rail:** no trains between Marrow and Hollin. The operator closed the "
                "line as a precaution; replacement buses are running.\n"
                "- **Buses:** routes 4 and 7 are diverted around the Quay district.\n\n"
                "The council's [travel page](https://example.org/elde-valley/travel) lists "
                "every closure."
            ),
        ),
        DemoPost(
            minutes_ago=523,
            headline="'The next twelve hours are critical'",
            body=(
                "Chief Fire Officer Ruth Amadi said crews had carried out more than 60 "
                "rescues since the river burst its banks, and warned that the worst may not "
                "be over:\n\n"
                "> “The next twelve hours are critical. Water from the hills will keep "
                "coming down the valley, and we expect levels in Hollin to rise by another "
                "half metre. If you are asked to leave, please leave.”\n\n"
                "Crews from three neighbouring fire services have joined the operation."
            ),
        ),
        DemoPost(
            minutes_ago=437,
            headline="Pumping begins in Marrow's old town",
            body=(
                "With the water at Tanner's Bridge levelling off, fire crews have set up two "
                "high-volume pumps on Quay Street to push water back over the quay wall.\n\n"
                "Each pump moves about 7,000 litres a minute. The fire service says clearing "
                "the cellars of the old town will take *days*, not hours."
            ),
            images=(
                demo_image(
                    "night-lights",
                    alt="Illustration: a fire engine with flashing blue lights and a pump "
                    "under an amber lamp in a dark, flooded street",
                    caption="Emergency vehicles and a high-volume pump on Quay Street",
                ),
            ),
        ),
        DemoPost(
            minutes_ago=334,
            headline=None,
            body=(
                "Elde Valley Council says its schools in Marrow and Hollin are closed until "
                "further notice. Parents can check the "
                "[schools page](https://example.org/elde-valley/schools) for updates."
            ),
        ),
        DemoPost(
            minutes_ago=238,
            headline="River has peaked at Marrow, forecasters say",
            body=(
                "The National Weather Office says the Elde peaked at **4.91 metres** at the "
                "Marrow gauge and is now falling slowly, by about two centimetres an hour.\n\n"
                "Downstream in Hollin the river is expected to peak within the next few hours, "
                "and the severe flood warning stays in place for the whole lower valley.\n\n"
                "Showers rather than steady rain are forecast for the next 24 hours."
            ),
        ),
        DemoPost(
            minutes_ago=131,
            headline="Ferry crews lend their boats to the rescue",
            body=(
                "Crews of the Port Callow ferries, back at work after "
                "[their two-day strike](/blogs/callow-ferry-strike), have sent two workboats "
                "up the Elde to carry supplies to Hollin.\n\n"
                "The boats can reach the streets by the church, which the fire service's "
                "larger craft cannot."
            ),
        ),
        DemoPost(
            minutes_ago=7,
            headline="Water begins to fall in Hollin",
            body=(
                "The first good news from Hollin in many hours: residents say the water on "
                "Church Lane has dropped by a hand's width in the past hour.\n\n"
                "Nobody is being allowed home yet. The fire service says electricians and gas "
                "engineers must first check every house."
            ),
        ),
    ),
)

REPORTER_DRAFT = PostCreate(
    headline="Volunteers start clearing the village hall in Hollin",
    body=(
        "Volunteers have started shovelling mud out of the village hall in Hollin.\n\n"
        "*Note for the desk: waiting for the volunteers' names before this goes out.*"
    ),
)
REPORTER_DRAFT_MINUTES_AGO = 4

CLOSED_BLOG = DemoBlog(
    minutes_ago=3205,
    blog=BlogCreate(
        slug="callow-ferry-strike",
        title="Ferry strike: Inchmore crossings resume after two-day walkout",
        standfirst=(
            "Ferries between Port Callow and the island of Inchmore are running again after "
            "crews and the operator agreed a new rota."
        ),
        labels=["Transport", "Port Callow"],
        lead_image=demo_image(
            "harbour-morning",
            alt="Illustration: a white ferry with a red funnel crossing calm water towards a "
            "wooden pier at sunrise",
            caption="The first crossing from Port Callow after the strike",
        ),
    ),
    posts=(
        DemoPost(
            minutes_ago=3190,
            headline="Ferry crews begin 48-hour strike",
            body=(
                "Crews on the Port Callow to Inchmore ferries have walked out in a dispute "
                "over rotas, leaving about 1,200 islanders without a regular crossing.\n\n"
                "The operator, Callow Sound Ferries, says an emergency boat will run twice a "
                "day for medical appointments and deliveries of medicine."
            ),
        ),
        DemoPost(
            minutes_ago=3012,
            headline="Talks resume at the harbour board",
            body="Union and company representatives are back at the table, the board says.",
        ),
        DemoPost(
            minutes_ago=2893,
            headline="Deal agreed to end the strike",
            key_event=True,
            body=(
                "Crews have accepted a new rota that limits back-to-back night shifts. Normal "
                "crossings restart with the next sailing from Port Callow.\n\n"
                "> “Nobody wanted the island cut off. This is a fair result for the crews and "
                "for Inchmore,” said the harbour board's chair, Alana Fenwick."
            ),
        ),
        DemoPost(
            minutes_ago=2861,
            headline="First ferry arrives in Inchmore",
            body="The first full crossing since the strike began has docked on time.",
        ),
    ),
    closed_minutes_ago=2848,
    closing_message=(
        "Crossings are back to the normal timetable, so this blog is now closed. "
        "Thank you for following our coverage."
    ),
)


@dataclass(frozen=True)
class DemoInfo:
    blog_slug: str
    closed_blog_slug: str
    arabic_blog_slug: str
    username: str
    password: str
    reporter_username: str
    reader_username: str  # one of the community's readers, for notes (DEMO_PASSWORD)


def needs_demo(session: Session) -> bool:
    """True on an empty database: the demo never mixes with a newsroom's own content."""
    return (
        session.scalar(select(Blog.id).limit(1)) is None
        and session.scalar(select(User.id).limit(1)) is None
    )


def create_demo(session: Session) -> DemoInfo:
    """The demo blogs, their posts and the demo logins, on an empty database."""
    started = utcnow()
    editor = create_user(
        session,
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,
        role=Role.EDITOR,
        display_name="Demo Editor",
    )
    reporter = create_user(
        session,
        username=REPORTER_USERNAME,
        password=DEMO_PASSWORD,
        role=Role.CONTRIBUTOR,
        display_name="Sam Reyes, field reporter",
    )
    for user in (editor, reporter):
        user.created_at = started - timedelta(days=3)
    desk = Actor.of(editor)
    closed = _create_blog(session, desk, CLOSED_BLOG, started)
    live = _create_blog(session, desk, LIVE_BLOG, started)
    # Imported here: the Arabic story is written with this module's DemoBlog and DemoPost.
    from liveticker.domain.demo_arabic import ARABIC_BLOG

    arabic = _create_blog(session, desk, ARABIC_BLOG, started)
    teams.join(session, blog=live, user_id=reporter.id, added_by=editor.id)
    draft = create_post(session, actor=Actor.of(reporter), blog=live, data=REPORTER_DRAFT)
    _backdate(session, started, started - timedelta(minutes=REPORTER_DRAFT_MINUTES_AGO), draft)
    # Imported here: the community's scoring runs bring in the engine (numpy, pandas).
    from liveticker.domain import demo_notes

    readers = demo_notes.create_community(
        session,
        strike=closed,
        flood=live,
        arabic=arabic,
        started=started,
        threshold=DEMO_WRITING_IMPACT,
    )
    return DemoInfo(
        blog_slug=LIVE_BLOG.blog.slug,
        closed_blog_slug=CLOSED_BLOG.blog.slug,
        arabic_blog_slug=ARABIC_BLOG.blog.slug,
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,
        reporter_username=REPORTER_USERNAME,
        reader_username=readers[0],
    )


def _create_blog(session: Session, desk: Actor, story: DemoBlog, started: datetime) -> Blog:
    # Each story's language, siblings and look come with it, whatever the site's defaults.
    data = story.blog.model_copy(
        update={
            "language": story.language,
            "translations": list(story.translations),
            "theme": story.theme,
        }
    )
    blog = create_blog(session, actor=desk, data=data, default_language=story.language)
    if story.key_points:
        set_key_points(
            session, actor=desk, blog=blog, data=KeyPointsInput(items=list(story.key_points))
        )
    publish_blog(session, actor=desk, blog=blog)
    _backdate(session, started, started - timedelta(minutes=story.minutes_ago), blog)
    for item in story.posts:
        _add_post(session, desk, blog, item, started)
    if story.closed_minutes_ago is not None:
        close_blog(session, actor=desk, blog=blog, data=CloseInput(message=story.closing_message))
        _backdate(session, started, started - timedelta(minutes=story.closed_minutes_ago), blog)
    return blog


def _add_post(session: Session, desk: Actor, blog: Blog, item: DemoPost, started: datetime) -> None:
    when = started - timedelta(minutes=item.minutes_ago)
    social = None
    if item.social is not None:
        social = item.social.model_copy(update={"posted_at": when - SOCIAL_LEAD})
    data = PostCreate(
        headline=item.headline,
        body=item.body,
        images=list(item.images),
        social=social,
        pinned=item.pinned,
        key_event=item.key_event,
        status="published",
    )
    post = create_post(session, actor=desk, blog=blog, data=data)
    _backdate(session, started, when, post, blog)
    if item.correction is not None:
        update_post(session, actor=desk, post=post, data=PostUpdate(body=item.correction))
        _backdate(session, started, when + EDIT_DELAY, post, blog)
    if item.delete_reason is not None:
        delete_post(session, actor=desk, post=post, data=DeleteInput(reason=item.delete_reason))
        _backdate(session, started, when + DELETE_DELAY, post, blog)


_TIMES = (
    "created_at",
    "published_at",
    "updated_at",
    "coverage_start",
    "coverage_end",
    "deleted_at",
)


def _backdate(session: Session, started: datetime, when: datetime, *rows: Blog | Post) -> None:
    """Move every time the last domain call stamped (all later than `started`) to `when`.

    Demo only: the domain rightly stamps the real time, but a story whose posts were all
    written in the same second would not show what a running live blog looks like.
    """
    session.flush()
    session.execute(update(Revision).where(Revision.created_at >= started).values(created_at=when))
    for row in rows:
        for name in _TIMES:
            value = getattr(row, name, None)
            if value is not None and value >= started:
                setattr(row, name, when)
