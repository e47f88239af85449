"""Short passages from Debian documentation packages (bookworm: git-doc 2.39.5, sqlite3-doc 3.40.1,
debian-reference-en 2.100, gnuplot-doc 5.4.4, octave-doc 7.3.0), as refinery's HTML extractor returns them.
The corpus bench/pii_precision.py measures on; nobody here wrote them."""

# Nothing in these is PII under the default settings: section numbers, versions, figures, reserved or
# placeholder values the manuals use as examples.
NOT_PII = {
    "section number": 'Reply to "Hide local mail name in outgoing mail?". (Use "`/etc/email-addresses`\n" as in '
                      "Section 6.2.4.3, “The mail address configuration”, instead.)",
    "version in a changelog heading": "Ticket #3879.\n### 2009-05-19 (3.6.14.1)\n- Fix a bug in group_concat(), "
                                      "ticket #3841\n- Fix a performance bug in the pager cache",
    "version in prose": "- Fixed a bug in the query planner that caused performance regressions\nrelative to "
                        "3.6.23.1 on some complex joins.",
    "versions in a table": "2005-03-11 | 3.1.4 |\n2005-02-28 | 3.1.3.1 |\n2005-02-20 | 3.1.3 |",
    "agent string": 'are typically of the form "package/version" (e.g., "git/1.8.3.1"). The\nagent strings are '
                    "purely informative",
    "CVS revision": "Reverse CVS keyword expansion (e.g. $Revision: 1.2.3.4$ becomes $Revision$) in working CVS "
                    "checkout before applying patch.",
    "version prior to": "in a repository renders it unclonable by Git versions prior to 1.5.1.2 over dumb "
                        "transports such as HTTP.",
    "git describe version": "$ git version\ngit version 2.20.1.155.g426c96fcdb\n```",
    "data file figures": "# Gnu population in Antarctica since 1965 1965 103 1970 55 1975 34 1980 24 1985 10",
    "program output": "swapbytes (uint16 (1:4)) ⇒ 256 512 768 1024\nReturn a new array `y`",
    "16-digit mantissa": "that number will be represented in binary64 as:\n\n6683623321994527 × 2-47\nWhich "
                         "works out to be:",
    "number in a URL": "https://code.facebook.com/posts/313033472212144/debugging-file-corruption-on-ios/ →",
    "gnuplot every": "plot 'file' matrix every ::3:0:7:4 # submatrix bounded by [3,0] and [7,4]",
    "git fd remote": "`git fetch fd::17 master`\n-\nFetch master, using file descriptor #17",
    "hosts file": "```\n127.0.0.1 localhost\n127.0.1.1\n```*host_name*\n# The following lines are desirable for "
                  "IPv6 capable hosts\n::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\n"
                  "ff02::2 ip6-allrouters",
    "netmasks": "A | 10.x.x.x | 255.0.0.0 | /8 | 1 |\nB | 172.16.x.x — 172.31.x.x | 255.255.0.0 | /16 | 16 |\n"
                "C | 192.168.0.x — 192.168.255.x | 255.255.255.0 | /24 | 256 |",
    "multicast": 'The mDNS IPv4 link-local multicast address "`224.0.0.251`\n" or its IPv6 equivalent '
                 '"`FF02::FB`\n" are used',
    "example.com trailer": 'such as answering the question "why?".\nSigned-off-by: A U Thor <author@example.com>',
    "placeholder host": 'Remote copy: "`./source`\n" directory at local host → "`/dest`\n" directory at '
                        '"`user@host.dom`\n" host',
    "placeholder TLD": "For example:\n\n`Proper Name <commit@email.xx>`\nThe more complex forms are:",
    "placeholder ssh target": "`ssh username@hostname.domain.ext` |\nconnect with default mode |",
    "systemd units": "Thu 2021-04-29 18:00:11 CEST 17min ago git-maintenance@hourly.timer "
                     "git-maintenance@hourly.service",
    "placeholder account": "smtpEncryption = tls\nsmtpServer = smtp.gmail.com\nsmtpUser = yourname@gmail.com\n"
                           "smtpServerPort = 587",
}

# Real contact data in the manuals, and what must be found in it.
PII = {
    "press contact": ("CONTACT INFORMATION:\nMozilla Corporation\nJessica Waight\nTel: +1.415.345.4754\n"
                      "Email: jwaight@outcastpr.com\n", ["+1.415.345.4754", "jwaight@outcastpr.com"]),
    "phone without a word": ("Symbian Global Press Office\nKaren Hamblen\n+44 207 154 1707\npress@symbian.com\n",
                             ["+44 207 154 1707", "press@symbian.com"]),
    "support line": ("D. Richard Hipp Hwaci - Applied Software Research 704.948.4565 drh@hwaci.com | More Info |",
                     ["704.948.4565", "drh@hwaci.com"]),
    "author address": ("subject message Helped-by: Junio C Hamano <gitster@pobox.com> Helped-by: Christian Couder "
                       "<christian.couder@gmail.com>`", ["gitster@pobox.com", "christian.couder@gmail.com"]),
    "public address in ping output": ("$ ping -4 -c 1 -s $((1500-28)) -M do www.debian.org PING (149.20.4.15) "
                                      "1472(1500) bytes of data.", ["149.20.4.15"]),
}

# Private addresses the manuals use as examples: redacted by default, kept with keep_private_ips.
PRIVATE = {
    "resolver": ('If the DNS is found at IP="`192.168.11.1`\n", it contains the following.\n\n'
                 "nameserver 192.168.11.1\nThe `resolvconf`", ["192.168.11.1", "192.168.11.1"]),
    "daemon paths": ("git daemon --verbose --export-all --interpolated-path=/pub/%IP/%D /pub/192.168.1.200/software "
                     "/pub/10.10.220.23/software`", ["192.168.1.200", "10.10.220.23"]),
}

# Real sentences with real-looking PII planted in them: (text, values to find).
PLANTED = [
    ("Push your changes to the public repository, and announce it to jane.miller@acme-logistics.com.",
     ["jane.miller@acme-logistics.com"]),
    ("The rollback journal file is always located in the same directory as the database; call 030 1234567 "
     "if it is missing.", ["030 1234567"]),
    ("Generate authentication keys locally and install the public key on the host 172.16.5.4 port 22.",
     ["172.16.5.4"]),
    ("If the DNS is found at IP address 8.8.4.4, it contains the following.", ["8.8.4.4"]),
    ("Make Bash POSIX-conformant by default, then connect to 10.1.2.3 (see Bash POSIX Mode).", ["10.1.2.3"]),
    ("Transactions are billed to card 4556 7375 8689 9855 when the backup completes.", ["4556 7375 8689 9855"]),
    ("They are retained for backwards compatibility: card number 4556737586899855 was used.",
     ["4556737586899855"]),
    ("Dependent rowid tables look like a single large table, SSN 078-05-1120.", ["078-05-1120"]),
    ("Reported-by: Ana Rossi <ana.rossi@uni-hamburg.de>, mobile +49 151 23456789.",
     ["ana.rossi@uni-hamburg.de", "+49 151 23456789"]),
    ("The server at 2a02:1205:5054:ab40::7 refused the connection.", ["2a02:1205:5054:ab40::7"]),
]
