"""Writes the sample corpus: two weekly drops of Acme's internal engineering documents in every supported
format, with what the corpus flow must handle (PII, exact and near duplicates within and across drops, a
garbage note, a German page, bad files).

    python scripts/make_sample_corpus.py samples/raw

The `write_*` helpers write real files with the format's own library; tests/builders.py reuses them.
Needs fpdf2 (a test dependency) for the PDFs.
"""
from __future__ import annotations

import datetime as dt
import gzip
import html
import json
import shutil
import sys
from pathlib import Path

DROPS = ("2026-11-01", "2026-11-08")
_FIXED_DATE = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.timezone.utc)  # stable PDF bytes across runs


# ---------------------------------------------------------------------------------------------- writers

def _target(path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_html(path: Path, title: str, article_html: str) -> Path:
    """`article_html` inside a site template: navigation, cookie banner, sidebar and footer boilerplate."""
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | Acme Engineering Wiki</title></head>
<body>
<nav class="top-nav"><ul><li><a href="/">Wiki home</a></li><li><a href="/teams">Teams</a></li>
<li><a href="/search">Search</a></li><li><a href="/login">Sign in</a></li></ul></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies | Manage preferences</div>
<main><article>
<h1>{html.escape(title)}</h1>
{article_html}
</article></main>
<aside class="sidebar"><h3>Related pages</h3><ul><li><a href="/a">Recently viewed</a></li>
<li><a href="/b">Popular this week</a></li></ul></aside>
<footer><p>Copyright 2026 Acme Corp. All rights reserved.</p>
<p>Privacy notice | Terms of use | Contact the wiki team</p></footer>
</body></html>
"""
    _target(path).write_text(page, encoding="utf-8")
    return path


def write_pdf(path: Path, title: str, pages: list[list[str]], header: str | None = None,
              footer: str | None = "Page {n} of {nb}") -> Path:
    """One list of paragraphs per page; `header`/`footer` are drawn on every page (`{n}` = page number)."""
    from fpdf import FPDF

    class _Doc(FPDF):
        def header(self):
            if header:
                self.set_font("Helvetica", "B", 9)
                self.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
                self.ln(4)

        def footer(self):
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", size=8)
                self.cell(0, 10, footer.replace("{n}", str(self.page_no())), align="C")

    pdf = _Doc()
    pdf.set_title(title)
    pdf.set_creation_date(_FIXED_DATE)
    for paragraphs in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    pdf.output(str(_target(path)))
    return path


def write_docx(path: Path, title: str, blocks: list[tuple]) -> Path:
    """Blocks: ("h1"|"h2", text), ("p", text), ("li", text) or ("table", rows with a header row first)."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for kind, content in blocks:
        if kind in ("h1", "h2", "h3"):
            document.add_heading(content, level=int(kind[1]))
        elif kind == "li":
            document.add_paragraph(content, style="List Bullet")
        elif kind == "table":
            table = document.add_table(rows=len(content), cols=len(content[0]))
            table.style = "Table Grid"
            for row, values in zip(table.rows, content):
                for cell, value in zip(row.cells, values):
                    cell.text = str(value)
        else:
            document.add_paragraph(content)
    document.save(str(_target(path)))
    return path


def write_pptx(path: Path, title: str, slides: list[dict]) -> Path:
    """Slides: {"title", "bullets": [...], "notes": str, "table": rows} (all but title optional)."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = title
    for spec in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])  # "Title and Content"
        slide.shapes.title.text = spec["title"]
        body = slide.placeholders[1].text_frame
        for i, bullet in enumerate(spec.get("bullets", [])):
            (body.paragraphs[0] if i == 0 else body.add_paragraph()).text = bullet
        if rows := spec.get("table"):
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(1), Inches(4.8), Inches(8), Inches(1.5))
            for r, values in enumerate(rows):
                for c, value in enumerate(values):
                    shape.table.cell(r, c).text = str(value)
        if notes := spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(_target(path)))
    return path


def write_xlsx(path: Path, title: str, sheets: dict[str, list[list]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    book.properties.title = title
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(str(_target(path)))
    return path


def write_jsonl(path: Path, records: list[dict], broken_after: int | None = None, gzipped: bool = False) -> Path:
    """One JSON object per line; `broken_after=i` inserts a truncated line after record i."""
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    if broken_after is not None:
        lines.insert(broken_after + 1, lines[broken_after][: len(lines[broken_after]) // 2])
    data = ("\n".join(lines) + "\n").encode("utf-8")
    _target(path).write_bytes(gzip.compress(data, mtime=0) if gzipped else data)
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    _target(path).write_bytes(text.encode(encoding))
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    _target(path).write_bytes(data)
    return path


def write_truncated_pdf(path: Path) -> Path:
    """A real PDF cut in half, as an interrupted upload leaves it."""
    full = write_pdf(Path(path).with_suffix(".tmp.pdf"), "Scan", [[_SCAN_TEXT]])
    data = full.read_bytes()
    full.unlink()
    _target(path).write_bytes(data[: len(data) // 2])
    return path


# ---------------------------------------------------------------------------------------------- content

ONBOARDING_MD = """# Engineering onboarding guide

Welcome to the platform engineering team at Acme. This guide covers your first two weeks. It is written by
the people who joined most recently, so if something here is out of date, fix it in your first pull request.

## Your first day

Your manager will meet you at the front desk at nine and walk you to your desk. Your laptop is already
enrolled in device management, so the only thing you need to do is sign in with the temporary password
from the welcome email and choose a new one. Your onboarding buddy for this quarter is Priya Nair
(priya.nair@acme.example, +1 415 555 0142). Ask her anything, especially the questions that feel too small.

## Accounts and access

Request access to the source repositories, the metrics dashboards and the staging cluster through the
access portal. Production access is granted only after you have shadowed two on-call shifts and completed
the security training. If a request is stuck for more than a day, call the IT service desk at (415) 555-0199.

## Your first week

- Read the architecture overview and the last three incident reviews.
- Pair with your buddy on a small bug fix and ship it to production.
- Attend the Wednesday design review, even if you only listen.

By the end of the week you should be able to build every service locally, run the integration tests and
explain how an order event travels from the public API to the warehouse systems.
"""

RUNBOOK_HTML = """
<p>This runbook explains how the on-call engineer performs a controlled failover of the primary orders
database when replication lag or disk pressure put the service at risk. Read it completely before you
start, and announce the failover in the incident channel so that nobody deploys while you work.</p>
<h2>Before you start</h2>
<ul>
<li>Confirm the alert on the database dashboard and note the current replication lag.</li>
<li>Freeze deployments by posting the freeze message in the release channel.</li>
<li>Check that the standby in the second availability zone reports itself as healthy.</li>
</ul>
<h2>Thresholds</h2>
<p>The table below lists the thresholds at which each action becomes mandatory during an incident.</p>
<table>
<tr><th>Metric</th><th>Warning</th><th>Failover</th></tr>
<tr><td>Replication lag</td><td>30 seconds</td><td>120 seconds</td></tr>
<tr><td>Disk usage</td><td>80 percent</td><td>95 percent</td></tr>
<tr><td>Connection errors</td><td>1 percent</td><td>5 percent</td></tr>
</table>
<h2>Promote the standby</h2>
<p>Log in to the bastion host at 81.2.69.160 with your personal account, never with a shared one, and run
the promotion script against the standby. The old primary at 10.20.30.40 must be fenced first so that it
cannot accept writes after the switch.</p>
<pre><code>./fence-primary.sh --host 10.20.30.40
./promote-standby.sh --zone b --confirm
systemctl restart pgbouncer</code></pre>
<p>When the script finishes, check that the application reconnects and that the error rate returns to its
normal level within five minutes. If it does not, page the database owner and keep the freeze in place.</p>
<p>After the failover, write a short incident summary within two business days and file follow-up tickets
for every action item that came out of the review.</p>
"""

RETENTION_PAGES = [
    ["Data Retention Policy",
     "This policy sets out how long Acme keeps the personal and operational data that its systems collect, "
     "and how that data is deleted when the retention period ends. It applies to every employee and "
     "contractor who builds, operates or has access to a production system, including analytics copies.",
     "Customer account records are kept for seven years after the end of the contract, because tax and "
     "accounting law requires it. After that period they are deleted from every live system and, within "
     "ninety days, from every backup."],
    ["Operational data such as application logs, traces and metrics is kept for thirteen months. This "
     "allows year-over-year comparisons while keeping the volume of stored personal data small. Logs must "
     "never contain passwords, payment card numbers or government identifiers.",
     "Support tickets often contain more personal data than they need. Agents must not paste a full social "
     "security number such as 123-45-6789 into a ticket; record only the last four digits and the fact "
     "that the identity check succeeded."],
    ["Requests from customers to delete their data are handled by the privacy office, which can be reached "
     "at privacy@acme.example. Each request is answered within thirty days, and the answer explains which "
     "records were deleted and which must be kept for a legal reason.",
     "Team leads review the retention settings of their systems every year. Exceptions to this policy need "
     "the written approval of the data protection officer and are recorded in the risk register."],
]
RETENTION_HEADER = "Acme Corp | Data Retention Policy | Internal"

REPORT_BLOCKS = [
    ("h1", "Q3 2026 operations report"),
    ("p", "The third quarter was the busiest in the history of the platform. Order volume grew by eighteen "
          "percent compared with the second quarter, driven by the launch in two new regions and the "
          "back-to-school season. Despite the growth, every customer-facing service met its availability "
          "target, and the number of incidents that paged an engineer at night fell for the second quarter "
          "in a row."),
    ("h2", "Availability"),
    ("table", [["Service", "Target", "Achieved", "Incidents"],
               ["Public API", "99.95%", "99.97%", "2"],
               ["Checkout", "99.9%", "99.93%", "3"],
               ["Warehouse sync", "99.5%", "99.61%", "5"]]),
    ("p", "The warehouse synchronisation service remains the least reliable part of the platform. Three of "
          "its five incidents were caused by a partner system that times out under load, and we have agreed "
          "with the partner to add a queue between the two systems before the peak season starts."),
    ("h2", "Cost"),
    ("p", "Infrastructure cost per thousand orders dropped by nine percent after we moved the batch jobs to "
          "spot capacity and removed two unused staging environments. Storage cost grew faster than "
          "expected because log retention had been set to unlimited in one account; the data retention "
          "policy now applies there as well."),
    ("h2", "Next quarter"),
    ("li", "Finish the event pipeline migration before the end of November."),
    ("li", "Run a full regional failover exercise with the support team involved."),
    ("li", "Reduce the median time to restore service from forty to thirty minutes."),
]

ARCHITECTURE_SLIDES = [
    {"title": "Event pipeline architecture review",
     "bullets": ["Why the current pipeline struggles at peak load", "What we propose to change, and when"],
     "notes": "Thank everyone for coming. The goal of this review is to agree on the direction, not on "
              "every detail, so please keep questions about naming and tooling for the design document."},
    {"title": "Current bottlenecks",
     "bullets": ["A single consumer group processes every event type",
                 "Retries block the partition until they succeed or expire",
                 "Schema changes require a coordinated deployment of five services"],
     "notes": "During the last peak the order events waited behind a burst of inventory updates for almost "
              "twelve minutes. Nothing was lost, but customers saw stale stock levels and some orders were "
              "accepted for items that had already sold out."},
    {"title": "Proposal",
     "bullets": ["Separate topics and consumer groups per event family",
                 "Dead-letter queue with automatic replay for failed events"],
     "table": [["Phase", "Scope", "Target date"], ["1", "Orders and payments", "November"],
               ["2", "Inventory and shipping", "January"]],
     "notes": "The first phase moves the order and payment events, which matter most to customers. We will "
              "run the old and new consumers side by side for two weeks and compare their outputs before "
              "switching over, so that a rollback stays possible at every step."},
]

RISK_SHEETS = {
    "Risks": [
        ["ID", "Risk", "Likelihood", "Impact", "Mitigation"],
        ["R-1", "The warehouse partner system times out during the peak season.", "High", "High",
         "Add a durable queue between the two systems and agree on a retry budget with the partner."],
        ["R-2", "A single engineer knows how to restore the billing database from backup.", "Medium", "High",
         "Document the restore procedure and have two more engineers practise it every quarter."],
        ["R-3", "Log retention is unlimited in one cloud account and stores personal data.", "High", "Medium",
         "Apply the thirteen month retention rule and delete the older log archives."],
        ["R-4", "The on-call rota has too few people during the holiday weeks.", "Medium", "Medium",
         "Ask for volunteers early and pay the holiday on-call allowance agreed with the works council."],
    ],
    "Owners": [
        ["Risk", "Owner", "Email", "Next review"],
        ["R-1", "Daniel Okafor", "daniel.okafor@acme.example", dt.date(2026, 12, 1)],
        ["R-2", "Mei Tanaka", "mei.tanaka@acme.example", dt.date(2026, 12, 15)],
        ["R-3", "Priya Nair", "priya.nair@acme.example", dt.date(2026, 11, 20)],
        ["R-4", "Tom Becker", "tom.becker@acme.example", dt.date(2026, 12, 5)],
    ],
}

TICKETS_WEEK1 = [
    {"ticket": "T-1041", "title": "Customer charged twice for one order", "text":
     "A customer wrote in to say that her card was charged twice for the same order. She included the full "
     "card number in her message, 4111 1111 1111 1111, which we have asked her never to send by email "
     "again. The payment provider shows one authorisation and one capture, so the second line on her "
     "statement is a pending authorisation that will expire on its own within five working days. I "
     "explained this to her on the phone at +44 20 7946 0958 and promised to follow up if the amount "
     "is still visible next week. The root cause is a retry in the checkout service that sends a second "
     "authorisation when the first one takes longer than three seconds. Engineering has a fix in review "
     "that makes the retry idempotent by reusing the original request key. Until it is deployed, agents "
     "should check the payment provider dashboard before promising a refund, because a refund issued "
     "against a pending authorisation is rejected and confuses the customer even more."},
    {"ticket": "T-1042", "title": "Warehouse label printer offline", "text":
     "The label printer in the Leeds warehouse stopped receiving jobs at around six in the morning. The "
     "shift lead restarted the printer twice without success, and orders started to queue in the packing "
     "area. The print server logs show that the printer's address changed after a network maintenance "
     "window during the night, so jobs were still being sent to the old address. We updated the printer "
     "record in the device inventory, and the queue drained within twenty minutes. To prevent this from "
     "happening again, the network team will reserve fixed addresses for every warehouse printer, and "
     "the device inventory will alert when a printer has not accepted a job for more than fifteen minutes "
     "during a working shift. The shift lead also asked for a spare printer to be kept in each warehouse, "
     "which the facilities team has approved for the next budget. Until then, the Manchester warehouse "
     "can print urgent labels and send them over with the afternoon shuttle."},
    {"ticket": "T-1043", "title": "Request to export all personal data", "text":
     "A customer asked for a copy of all the personal data we hold about him, citing his rights under "
     "data protection law. I confirmed his identity through the account recovery flow and forwarded the "
     "request to the privacy office, which is responsible for answering it within thirty days. He asked "
     "whether the export would include his old support conversations and the notes that agents wrote "
     "about him. I explained that it would, together with his order history, his saved addresses and the "
     "marketing preferences he has set. He also wanted to know how long we keep this information after he "
     "closes his account, so I sent him the public summary of the data retention policy and the contact "
     "address of the privacy office for any further questions. He thanked me and said he would wait "
     "for the export before deciding whether to close the account. I added a note to his profile so that "
     "the next agent knows the request is already being handled."},
]

TICKETS_WEEK2 = [
    {"ticket": "T-1057", "title": "Invoices missing the VAT number", "text":
     "Several business customers in Germany reported that their October invoices do not show their VAT "
     "identification number, which they need to reclaim the tax. The number is stored correctly on their "
     "accounts, but the invoice template reads it from an old field that the billing migration left empty. "
     "We have corrected the template and regenerated the affected invoices, and each customer received a "
     "short apology together with the corrected document. Finance asked us to check whether any invoices "
     "from September were affected as well; a query over the billing database found none, because the "
     "migration happened in the first week of October. To catch this kind of problem earlier, the billing "
     "team will compare a sample of generated invoices with the account data after every template change, "
     "and the finance team will be told before any change to invoice fields is released. The customers "
     "who reported the problem have confirmed that the corrected invoices were accepted."},
    {"ticket": "T-1058", "title": "Slow search results in the customer portal", "text":
     "Customers have been complaining that searching their order history in the portal takes more than "
     "ten seconds, and sometimes the page gives up with an error. The search service logs show that the "
     "slow queries all come from accounts with more than five thousand orders, which scan the whole order "
     "table because the date filter is applied after the text match. The search team added an index on "
     "the customer and date columns and changed the query to filter by date first. Median response time "
     "for the largest accounts dropped from eleven seconds to under half a second, and no errors have been "
     "reported since the change was deployed on Tuesday afternoon. The team will keep an eye on the "
     "slow query log for another week and then close the ticket if nothing new appears. Two customers "
     "wrote back to say that the portal now feels faster than it has ever been."},
]

WIKI_PAGES = [
    {"page": "glossary", "title": "Platform glossary", "text":
     "This glossary explains the words that the platform team uses every day, so that new colleagues and "
     "people from other departments can follow design reviews and incident calls. An order event is the "
     "message that the public API publishes whenever an order is created, paid, shipped or cancelled. A "
     "drop is a batch of documents or data that arrives on a fixed schedule, usually once a week. The "
     "standby is the copy of a database that receives every change from the primary and can take over "
     "when the primary fails. A freeze is a period in which nobody deploys to production, typically during "
     "an incident or in the days before a large sales event. When in doubt, ask in the team channel rather "
     "than guessing, because several of these words mean something different in the finance department. "
     "New terms are added to this page by whoever introduces them, and the page is reviewed once a "
     "quarter."},
    {"page": "coding-standards", "title": "Coding standards", "text":
     "Our coding standards exist to make code easy to review and safe to change, not to win arguments "
     "about style. Formatting is decided by the automatic formatter that runs before every commit, so "
     "reviews never discuss spaces or line lengths. Every change that alters behaviour comes with a test "
     "that would have failed before the change. Public functions have a short docstring that says why "
     "they exist, and comments explain decisions rather than repeating what the code already says. Errors "
     "are handled where something useful can be done about them and are otherwise allowed to propagate "
     "with their original message. Secrets never appear in the code or in configuration files that are "
     "checked in; they are read from the secret store when the service starts. Exceptions to these rules "
     "are fine when they are explained in the pull request and agreed by the reviewer. The standards "
     "are revised every spring, and anyone may propose a change."},
]

RELEASE_NOTES_TXT = """Release process notes

These notes were written by José Müller and Zoë Laurent after the spring release went wrong, and they
describe how we ship the mobile and web clients today. Every release starts with a release branch that is
cut on Monday morning. From that moment only fixes for bugs found in the release candidate may be merged,
and each of them needs the approval of the release captain for that week.

The release candidate is installed on the test devices in the café area so that anyone passing by can try
it. We learned the hard way that a naïve smoke test on a single phone is not enough: the spring release
crashed on older tablets, which nobody in the team was using at the time.

On Wednesday the release captain reviews the crash reports and the open bugs with the product manager and
decides whether to ship. If the decision is to ship, the rollout starts with five percent of users and
grows to the full audience over two days, as long as the crash rate stays below the agreed limit. If the
decision is not to ship, the branch stays open for one more week and the next release is skipped.

Questions about the process go to the release captain of the week, whose name is pinned in the release
channel. Suggestions for improving these notes are always welcome.
"""

# A near duplicate of RELEASE_NOTES_TXT: a few words changed, as an edited draft saved next to the original.
RELEASE_NOTES_DRAFT_TXT = (RELEASE_NOTES_TXT
                           .replace("Monday morning", "Tuesday morning")
                           .replace("five percent of users", "ten percent of users")
                           .replace("always welcome", "very welcome"))

# A near duplicate of RUNBOOK_HTML for the second drop: the thresholds and two words were edited.
RUNBOOK_HTML_V2 = (RUNBOOK_HTML
                   .replace("<td>120 seconds</td>", "<td>90 seconds</td>")
                   .replace("the on-call engineer performs", "the on-call responder performs")
                   .replace("within five minutes", "within ten minutes"))

ACCESS_CONTROL_HTML = """
<p>Access to production systems at Acme follows the principle of least privilege: every person gets the
access that their current work requires, for as long as it requires it, and nothing more. This page
describes how access is requested, approved and reviewed.</p>
<h2>Requesting access</h2>
<p>Requests are made in the access portal and name the system, the role and the reason. The owner of the
system approves or rejects the request within one working day. Temporary access for an incident can be
granted by the incident commander and expires automatically after eight hours.</p>
<h2>Reviews</h2>
<p>Every quarter, system owners receive a list of the people who hold access to their systems and confirm
or remove each entry. Access that is not confirmed within two weeks is removed. People who change teams
lose the access of their old team on the day of the move, and leavers lose all access on their last day.</p>
<ol>
<li>Shared accounts are not allowed, with the exception of documented break-glass accounts.</li>
<li>Break-glass accounts are stored in the vault and every use of them is reviewed by security.</li>
</ol>
<p>Questions about this policy can be sent to security@acme.example or raised in the weekly security
office hours.</p>
"""

POSTMORTEM_PAGES = [
    ["Postmortem: checkout errors on 4 November 2026",
     "Summary. For forty-seven minutes on the evening of 4 November, about twelve percent of checkout "
     "attempts failed with a server error. The cause was a configuration change that lowered the connection "
     "pool size of the payment service from two hundred to twenty connections. No payments were taken "
     "twice and no data was lost, but a few hundred customers had to retry their orders.",
     "Timeline. The change was deployed at 18:02 as part of a routine release. Error rates rose within two "
     "minutes, and the on-call engineer was paged at 18:09. She first suspected the payment provider, whose "
     "status page reported degraded performance in another region, and spent twenty minutes ruling it out."],
    ["Resolution. At 18:41 the engineer compared the running configuration with the previous release and "
     "found the changed pool size. The release was rolled back at 18:45 and the error rate returned to "
     "normal by 18:49. The incident channel was closed at 19:10 after a final check of the payment queue.",
     "Lessons. The configuration change was reviewed, but the reviewer could not see the old value in the "
     "diff because the setting had moved to a new file. We will show the effective configuration of a "
     "release next to the code diff, and alert when a connection pool is exhausted for more than a minute. "
     "Contact: Mei Tanaka, mei.tanaka@acme.example, extension +1 415 555 0178."],
]

WEEKLY_UPDATE_TXT = """Weekly platform update, week 45

This week the team finished moving the order events to their own topic, the first milestone of the event
pipeline migration. The old and the new consumers now run side by side, and so far their outputs have
matched for every one of the four million events processed. We plan to switch over next Thursday if the
comparison stays clean through the weekend.

On Wednesday we ran the quarterly restore exercise for the billing database. Two engineers who had never
done it before restored the database in fifty minutes by following the updated runbook, which is well
inside our one hour target. They suggested three small improvements to the runbook, which are already
merged.

Support reported fewer tickets about slow searches since the index change went out, and the customer
satisfaction score for portal searches went up for the first time this year. The remaining complaints
come from a handful of very large accounts, which the search team will look at next sprint.

If you have questions about any of this, reply to this update or call the platform office on
(415) 555-0123 during working hours. Our load balancer in the new region answers on 81.2.69.142 for
anyone who wants to run the latency tests themselves.
"""

GERMAN_MD = """# Richtlinie zum mobilen Arbeiten

Diese Richtlinie regelt, unter welchen Bedingungen Beschäftigte der Acme GmbH von zu Hause oder von
einem anderen Ort außerhalb des Büros arbeiten dürfen. Sie gilt für alle Teams am Standort Berlin und
wurde gemeinsam mit dem Betriebsrat erarbeitet.

## Grundsätze

Mobiles Arbeiten ist an bis zu drei Tagen pro Woche möglich, sofern die Aufgaben es zulassen und die
Erreichbarkeit während der vereinbarten Kernzeiten sichergestellt ist. Die Kernzeit liegt zwischen zehn
und fünfzehn Uhr. Besprechungen mit dem ganzen Team finden in der Regel am Dienstag im Büro statt, damit
sich alle Kolleginnen und Kollegen regelmäßig persönlich sehen.

## Datenschutz und Sicherheit

Vertrauliche Unterlagen dürfen nur auf Geräten des Unternehmens bearbeitet werden. Öffentliche
WLAN-Netze sind nur mit aktivierter VPN-Verbindung erlaubt. Ausgedruckte Dokumente mit personenbezogenen
Daten müssen nach Gebrauch sicher vernichtet werden. Bei Fragen hilft das IT-Team gerne weiter, und
Verstöße gegen diese Regeln sind umgehend der Sicherheitsabteilung zu melden.
"""

SCRATCH_TXT = "asdf asdf ;;;; 12345\nTODO: ???\nxx xx xx\n#### ----\n"

_SCAN_TEXT = ("Signed delivery note for pallet 118, received in good condition at the Leeds warehouse. "
              "Counted and checked by the morning shift.")


# ---------------------------------------------------------------------------------------------- corpus

def build_corpus(root: Path) -> list[Path]:
    """Both drops under `root` (each drop folder replaced whole); returns the files written."""
    root = Path(root)
    for drop in DROPS:
        shutil.rmtree(root / drop, ignore_errors=True)
    d1, d2 = root / DROPS[0], root / DROPS[1]
    files = [
        write_text(d1 / "handbook" / "onboarding.md", ONBOARDING_MD),
        write_text(d1 / "archive" / "onboarding-copy.md", ONBOARDING_MD),  # exact duplicate, same drop
        write_html(d1 / "runbooks" / "database-failover.html", "Database failover runbook", RUNBOOK_HTML),
        write_pdf(d1 / "policies" / "data-retention.pdf", "Data Retention Policy", RETENTION_PAGES,
                  header=RETENTION_HEADER),
        write_docx(d1 / "reports" / "q3-operations-report.docx", "Q3 2026 operations report", REPORT_BLOCKS),
        write_pptx(d1 / "slides" / "event-pipeline-review.pptx", "Event pipeline architecture review",
                   ARCHITECTURE_SLIDES),
        write_xlsx(d1 / "planning" / "risk-register.xlsx", "Platform risk register", RISK_SHEETS),
        write_jsonl(d1 / "support" / "tickets.jsonl", TICKETS_WEEK1),
        write_text(d1 / "notes" / "release-process.txt", RELEASE_NOTES_TXT, encoding="latin-1"),
        write_text(d1 / "notes" / "release-process-draft.txt", RELEASE_NOTES_DRAFT_TXT),  # near duplicate
        write_text(d1 / "intl" / "richtlinie-mobiles-arbeiten.md", GERMAN_MD),  # not English
        write_text(d1 / "misc" / "scratch.txt", SCRATCH_TXT),  # garbage: quality filters drop it
        write_truncated_pdf(d1 / "incoming" / "scan-2026-10-30.pdf"),  # bad: corrupt_pdf
        write_text(d1 / "incoming" / "budget-2027.docx", "<html><body>Access denied</body></html>\n"),  # bad: not_a_zip
        write_text(d1 / "incoming" / "empty-upload.txt", ""),  # bad: empty
        write_text(d2 / "handbook" / "onboarding.md", ONBOARDING_MD),  # exact duplicate of drop 1
        write_html(d2 / "runbooks" / "database-failover.html", "Database failover runbook", RUNBOOK_HTML_V2),
        write_html(d2 / "policies" / "access-control.html", "Access control policy", ACCESS_CONTROL_HTML),
        write_pdf(d2 / "reports" / "postmortem-2026-11-04.pdf", "Postmortem: checkout errors", POSTMORTEM_PAGES,
                  header="Acme Corp | Incident postmortem"),
        write_jsonl(d2 / "support" / "tickets.jsonl", TICKETS_WEEK2, broken_after=0),  # one broken line
        write_jsonl(d2 / "exports" / "wiki-pages.jsonl.gz", WIKI_PAGES, gzipped=True),
        write_text(d2 / "notes" / "weekly-update.txt", WEEKLY_UPDATE_TXT),
        write_bytes(d2 / "incoming" / "whiteboard.heic", b"\x00\x00\x00\x18ftypheic" + bytes(64)),  # bad: unsupported
    ]
    return files


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "samples/raw")
    files = build_corpus(root)
    total = sum(f.stat().st_size for f in files)
    for f in files:
        print(f"{f.stat().st_size:>8}  {f.relative_to(root)}")
    print(f"{len(files)} files, {total} bytes in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
