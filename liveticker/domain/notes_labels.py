"""Plain words for the notes' codes: statuses, classifications, and X's words for the reasons
of its note form and the tags of its rating form (tags X no longer offers keep a label, for
ratings sent through the API). English, marked for the catalogues; a page translates them
in its own language when it shows them (web/notes_explain.py's `label`)."""

from __future__ import annotations

from liveticker.domain.languages import N_

LABELS = {
    "HELPFUL": N_("Helpful"),
    "SOMEWHAT_HELPFUL": N_("Somewhat helpful"),
    "NOT_HELPFUL": N_("Not helpful"),
    "MISINFORMED_OR_POTENTIALLY_MISLEADING": N_(
        "The post is misinformed or potentially misleading"
    ),
    "NOT_MISLEADING": N_("The post is not misleading"),
    "CURRENTLY_RATED_HELPFUL": N_("Helpful"),
    "CURRENTLY_RATED_NOT_HELPFUL": N_("Not helpful"),
    "NEEDS_MORE_RATINGS": N_("Needs more ratings"),
    "misleadingFactualError": N_("It contains a factual error"),
    "misleadingManipulatedMedia": N_("It contains a digitally altered photo or video"),
    "misleadingOutdatedInformation": N_("It contains outdated information that may be misleading"),
    "misleadingMissingImportantContext": N_(
        "It is a misrepresentation or misses important context"
    ),
    "misleadingUnverifiedClaimAsFact": N_("It presents an unverified claim as a fact"),
    "misleadingSatire": N_("It is a joke or satire that might be taken as fact"),
    "misleadingOther": N_("Other"),
    "notMisleadingFactuallyCorrect": N_("It makes a factually correct claim"),
    "notMisleadingOutdatedButNotWhenWritten": N_(
        "It was correct when written, but is out of date now"
    ),
    "notMisleadingClearlySatire": N_("It is clearly satire or a joke"),
    "notMisleadingPersonalOpinion": N_("It expresses a personal opinion"),
    "notMisleadingOther": N_("Other"),
    "helpfulClear": N_("Easy to understand"),
    "helpfulGoodSources": N_("Cites high-quality sources"),
    "helpfulAddressesClaim": N_("Directly addresses the post's claim"),
    "helpfulImportantContext": N_("Provides important context"),
    "helpfulUnbiasedLanguage": N_("Neutral or unbiased language"),
    "helpfulOther": N_("Other"),
    "helpfulInformative": N_("Informative"),
    "helpfulEmpathetic": N_("Empathetic"),
    "helpfulUniqueContext": N_("Offers unique information"),
    "notHelpfulSourcesMissingOrUnreliable": N_("Sources not included or unreliable"),
    "notHelpfulIrrelevantSources": N_("Sources do not support the note"),
    "notHelpfulIncorrect": N_("Incorrect information"),
    "notHelpfulOpinionSpeculation": N_("Opinion or speculation"),
    "notHelpfulHardToUnderstand": N_("Typos or unclear language"),
    "notHelpfulMissingKeyPoints": N_("Misses key points or irrelevant"),
    "notHelpfulArgumentativeOrBiased": N_("Argumentative or biased language"),
    "notHelpfulNoteNotNeeded": N_("Note not needed on this post"),
    "notHelpfulSpamHarassmentOrAbuse": N_("Harassment or abuse"),
    "notHelpfulOther": N_("Other"),
    "notHelpfulOpinionSpeculationOrBias": N_("Opinion, speculation or bias"),
    "notHelpfulOutdated": N_("Outdated"),
    "notHelpfulOffTopic": N_("Off topic"),
}

# A status where it stands alone (a note's page, a post's list): what it means for readers.
STATUS_TEXT = {
    "CURRENTLY_RATED_HELPFUL": N_("Helpful: shown under the post"),
    "CURRENTLY_RATED_NOT_HELPFUL": N_("Not helpful: not shown"),
    "NEEDS_MORE_RATINGS": N_("Needs more ratings"),
}
