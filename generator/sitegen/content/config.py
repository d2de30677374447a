"""`site.yaml`: the hospital, the liaison office and the settings of each output.

Each output keeps the schema of its own section next to its code; this module
only puts the sections together. Every section but `site`, `hospital` and
`office` is optional.
"""
from __future__ import annotations

from sitegen.content.brochure_settings import BrochureSettings
from sitegen.content.calendar import CalendarSettings
from sitegen.content.models import Hospital, Model, Office, SiteSettings
from sitegen.content.newsletter_models import NewsletterSettings, SmtpSettings


class SiteFile(Model):
    site: SiteSettings
    hospital: Hospital
    office: Office
    newsletter: NewsletterSettings | None = None  # sender, recipient list, unsubscribe (outputs/mail.py, send.py)
    smtp: SmtpSettings | None = None  # where `sitegen send` delivers; secrets come from environment variables
    calendar: CalendarSettings = CalendarSettings()  # public holidays and the hospital's own closed days
    brochures: BrochureSettings = BrochureSettings()  # which PDF brochures, paper size, print-shop edition (outputs/pdf.py)
