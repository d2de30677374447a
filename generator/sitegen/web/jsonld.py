"""schema.org structured data (Hospital, Physician, MedicalSpecialty) as JSON-LD."""
from __future__ import annotations

import json
from collections.abc import Callable

from markupsafe import Markup

from sitegen import urls


def to_script(data: dict) -> Markup:
    """Serialise for a <script type="application/ld+json"> block; '<' is escaped so text cannot close it."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=None)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def hospital(site) -> dict:
    h = site.hospital
    base = site.settings.base_url
    data = {
        "@context": "https://schema.org",
        "@type": "Hospital",
        "@id": base + "#hospital",
        "name": h.name,
        "alternateName": [h.name_en, h.name_kana],
        "url": base,
        "telephone": h.phone,
        "address": {"@type": "PostalAddress", "postalCode": h.address.postal_code,
                    "streetAddress": h.address.text, "addressCountry": "JP"},
        "medicalSpecialty": [d.name for d in site.departments],
    }
    if h.logo:
        data["logo"] = urls.absolute(base, urls.content_file_path(h.logo.src))
    return data


def physician(site, doctor) -> dict:
    base = site.settings.base_url
    data = {
        "@context": "https://schema.org",
        "@type": "Physician",
        "name": doctor.name,
        "url": urls.absolute(base, urls.page_path("doctor", doctor.slug)),
        "medicalSpecialty": [site.department(s).name for s in doctor.departments],
        "hospitalAffiliation": {"@id": base + "#hospital", "@type": "Hospital", "name": site.hospital.name},
    }
    if doctor.name_en:
        data["alternateName"] = doctor.name_en
    if doctor.title:
        data["jobTitle"] = doctor.title
    if doctor.photo:
        data["image"] = urls.absolute(base, urls.content_file_path(doctor.photo.src))
    if doctor.qualifications:
        data["hasCredential"] = [{"@type": "EducationalOccupationalCredential", "name": q.name,
                                  "recognizedBy": {"@type": "Organization", "name": q.issuer}} for q in doctor.qualifications]
    return data


def specialty(site, department) -> dict:
    base = site.settings.base_url
    return {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": department.name,
        "url": urls.absolute(base, urls.page_path("department", department.slug)),
        "about": {"@type": "MedicalSpecialty", "name": department.name, "alternateName": department.name_en},
        "specialty": department.name,
        "description": department.summary,
        "publisher": {"@id": base + "#hospital", "@type": "Hospital", "name": site.hospital.name},
    }


# Page.schema -> the function that describes the page (given the site, and the page's first context value if any)
DESCRIBE: dict[str, Callable[..., dict]] = {"hospital": hospital, "physician": physician, "specialty": specialty}
