"""Reply-text phrases that name a bounce reason.

Theory of operation: each reason has one table of phrases, compiled into one alternation at
import. A phrase is lower-case text as MTAs and providers write it, with at most bounded gaps
(``.{0,80}``) where the reply puts an address, a host or a number; matching is therefore linear
in the length of the reply. The tables say only what a phrase means; which reason wins when
several match is decided by the order lists in `bounced.classify.decide`.

Rule 1: a phrase goes in the table of the reason the reference parser (Sisimai 5) gives it, so
that results compare with it; a comment names the MTA or provider a phrase comes from where it
is specific to one.
Rule 2: `REJECTED` has phrases that must not count when the reply is about the recipient's
address rather than the sender's (`REJECTED_NOT`).
"""

from __future__ import annotations

import re

from bounced.classify.scan import Scanner
from bounced.model import Reason

R = Reason

# A gap between two parts of a phrase: an address, a host name, a number.
GAP = ".{0,80}?"
LONG_GAP = ".{0,200}?"


PHRASES: dict[Reason, tuple[str, ...]] = {
    R.MAILBOXFULL: (
        r"452 insufficient disk space",
        r"account disabled temporarly for exceeding receiving limits",
        r"boite du destinataire pleine",  # Orange, La Poste
        r"does not have enough space",
        r"exceeded storage allocation",
        r"full mailbox",
        r"mailbox exceeds allowed size",
        r"mailbox size limit exceeded",
        r"mailbox would exceed maximum allowed storage",
        r"mail file size exceeds the maximum size allowed for mail delivery",
        r"mailfolder is full",
        r"no space left on device",
        r"not sufficient disk space",
        r"quota violation for",
        r"too much mail data",  # NTT docomo
        r"user has exceeded quota, bouncing mail",
        r"user has too many messages on the server",
        r"user's space has been used up",
        r"account is " + GAP + r" quota",
        r"disk" + GAP + r"quota",
        r"enough " + GAP + r" space",
        r"mailbox " + GAP + r"exceeded" + GAP + r" limit",
        r"mailbox " + GAP + r"full",
        r"mailbox " + GAP + r"quota",
        r"maildir " + GAP + r"quota",
        r"over " + GAP + r"quota",
        r"quota " + GAP + r"exceeded",
    ),
    R.MESGTOOBIG: (
        r"exceeded maximum inbound message size",
        r"exceeded the maximum incoming message size",
        r"line limit exceeded",
        r"max message size exceeded",
        r"message file too big",
        r"message length exceeds administrative limit",
        r"message size exceeds fixed limit",
        r"message size exceeds fixed maximum message size",
        r"message size exceeds maximum value",
        r"message too big",
        r"message too large for this ",
        r"size limit",
        r"taille limite du message atteinte",  # Orange, La Poste
    ),
    R.EXCEEDLIMIT: (
        r"message header size exceeds limit",
        r"message too large",
    ),
    R.SUSPEND: (
        r" is currently suspended",
        r" temporary locked",
        r"archived recipient",
        r"boite du destinataire archivee",  # La Poste
        r"email account that you tried to reach is disabled",  # Gmail
        r"has been blocked due to inactivity",
        r"has been suspended",
        r"inactive account",
        r"invalid/inactive user",
        r"is a deactivated mailbox",  # Tencent
        r"is unavailable: account is disabled",
        r"is unavailable: user is terminated",
        r"mailbox currently suspended",
        r"mailbox disabled",
        r"mailbox is frozen",
        r"mailbox unavailable or access denied",
        r"recipient address rejected: inactive",
        r"recipient rejected: temporarily inactive",
        r"recipient suspend the service",
        r"the email account that you tried to reach is inactive",  # Gmail
        r"this account has been disabled or discontinued",
        r"this account has been temporarily suspended",
        r"this address no longer accepts mail",
        r"this mailbox is disabled",
        r"user or domain is disabled",
        r"user suspended",  # NetEase
        r"vdelivermail: account is locked email bounced",
    ),
    R.HASMOVED: (r" has been replaced by ",),
    R.NORELAYING: (
        r"as a relay",
        r"email address is not verified\.",
        r"insecure mail relay",
        r"is not permitted to relay through this server without authentication",
        r"mail server requires authentication when attempting to send to a non-local e-mail",
        r"no relaying",
        r"not a gateway",
        r"not allowed to relay through this machine",
        r"not an open relay, so get lost",
        r"not local host",
        r"relay access denied",
        r"relay denied",
        r"relay not permitted",
        r"relaying denied",
        r"relaying mail to ",
        r"specified domain is not allowed",
        r"that domain isn't in my list of allowed rcpthost",
        r"this system is not configured to relay mail",
        r"unable to relay ",
        r"we don't handle mail for",
    ),
    R.AUTHFAILURE: (
        r"//spf\.pobox\.com",
        r"bad spf records for",
        r"dmarc policy",
        r"doesn't meet the required authentication level",
        r"please inspect your spf settings",
        r"reject due to spf policy",
        r"sender policy framework \(spf\) fail",
        r"sender policy framework violation",
        r"spf \(sender policy framework\) domain authentication fail",
        r"spf-check failed",
        r"spf check: fail",
        r"the 5322\.from address doesn't meet the authentication requirements",
        r" is not allowed to send mail\." + LONG_GAP + r"_401",  # La Poste
        r"is not allowed to send from <" + GAP + r" per it's spf record",
    ),
    R.USERUNKNOWN: (
        r"#5\.1\.1 bad address",
        r"550 address invalid",
        r"5\.1\.0 address rejected\.",
        r"address does not exist",
        r"address not present in directory",
        r"address unknown",
        r"addressee unknown",  # sendmail's and AT&T's "<addr>... Addressee unknown"
        r"can't accept user",
        r"does not exist\.",
        r"destination addresses were unknown",
        r"destination server rejected recipients",
        r"email address does not exist",
        r"email address could not be found",
        r"invalid address",
        r"invalid mailbox",
        r"invalid recipient",
        r"is not a known user",
        r"is not a valid mailbox",
        r"is not an active address at this host",
        r"mailbox does not exist",
        r"mailbox invalid",
        r"mailbox is inactive",
        r"mailbox is unavailable",
        r"mailbox not present",
        r"mailbox not found",
        r"mailbox unavaiable",
        r"nessun utente simile in questo indirizzo",
        r"no account by that name here",
        r"no existe dicha persona",
        r"no existe ese usuario ",
        r"no mail box available for this user",
        r"no mailbox by that name is currently available",
        r"no mailbox found",
        r"no such address here",
        r"no such mailbox",
        r"no such person at this address",
        r"no such recipient",
        r"no such user",
        r"no thank you rejected: account unavailable",
        r"no valid recipients, bye",
        r"not a valid recipient",
        r"not a valid user here",
        r"not a local address",
        r"not email addresses",
        r"recipient address rejected\. \(in reply to rcpt to command\)",
        r"recipient address rejected: access denied",
        r"recipient address rejected: invalid user",
        r"recipient address rejected: invalid-recipient",
        r"recipient address rejected: unknown user",
        r"recipient address rejected: userunknown",
        r"recipient does not exist",
        r"recipient is not accepted",
        r"recipient is not local",
        r"recipient not exist",
        r"recipient not found",
        r"recipient not ok",
        r"recipient refuses to accept your mail",
        r"recipient unknown",
        r"requested action not taken: mailbox unavailable",
        r"resolver\.adr\.recipient notfound",
        r"sorry, user unknown",
        r"sorry, badrcptto",
        r"sorry, no mailbox here by that name",
        r"sorry, your envelope recipient has been denied",
        r"that domain or user isn't in my list of allowed rcpthosts",
        r"the email account that you tried to reach does not exist",  # Gmail
        r"the following recipients was undeliverable",
        r"the user's email name is not found",
        r"there is no one at this address",
        r"this address no longer accepts mail",
        r"this email address is wrong or no longer valid",
        r"this recipient is in my badrecipientto list",
        r"this recipient is not in my validrcptto list",
        r"this spectator does not exist",
        r"unknown mailbox",
        r"unknown recipient",
        r"unknown user",
        r"user does not exist",
        r"user missing home directory",
        r"user not active",
        r"user not exist",
        r"user not found",
        r"user not known",
        r"user unknown",
        r"utilisateur inconnu !",
        r"vdeliver: invalid or unknown virtual user",
        r"weil die adresse nicht gefunden wurde oder keine e-mails empfangen kann",  # GMX, Web.de
        r"your envelope recipient is in my badrcptto list",
        r"<" + GAP + r"> not found",
        r"<" + GAP + r">\.\.\. blocked by ",
        r"account " + GAP + r" does not exist at the organization",
        r"adresse d au moins un destinataire invalide\. invalid recipient\." + GAP + r"41[68]",
        r"bad" + GAP + r"recipient",
        r"mailbox " + GAP + r"does not exist",
        r"mailbox " + GAP + r"unavailable or access denied",
        r"no " + GAP + r" in name directory",
        r"non" + GAP + r"existent user",
        r"rcpt <" + GAP + r" does not exist",
        r"rcpt \(" + GAP + r"t exist ",
        r"recipient " + GAP + r" was not found in",
        r"recipient address rejected: user " + GAP + r"  does not exist",
        r"recipient address rejected: user unknown in " + GAP + r"  table",
        r"said: 550" + GAP + r"5\.1\.1 " + GAP + r" user unknown ",
        r"this user doesn't have a " + GAP + r" account",
        r"unknown e" + GAP + r"mail address",
        r"unknown local" + GAP + r"part",
        r"user " + GAP + r" was not found",
        r"user " + GAP + r" does not exist",
        r"user \(" + GAP + r"\) unknown",
    ),
    R.FILTERED: (
        r"account is protected by",
        r"bounced address",  # SendGrid: the address bounced before
        r"due to extended inactivity new mail is not currently being accepted for this mailbox",
        r"has restricted sms e-mail",  # AT&T
        r"is not accepting any mail",
        r"message filtered",
        r"message rejected due to user rules",
        r"not found recipient account",
        r"recipient id refuse to receive mail",  # Willcom
        r"recipient is only accepting mail from specific email addresses",  # AOL
        r"refused due to recipient preferences",  # Facebook
        r"resolver\.rst\.notauthorized",  # Microsoft: the recipient accepts only some senders
        r"user not found",  # Mail.ru filter
        r"user refuses to receive this mail",
        r"user reject",
        r"you have been blocked by the recipient",
    ),
    R.REQUIREPTR: (
        r"access denied\. ip name lookup failed",
        r"all mail servers must have a ptr record with a valid reverse dns entry",
        r"bad dns ptr resource record",
        r"cannot find your hostname",
        r"cannot resolve your address\.",
        r"client host rejected: cannot find your hostname",
        r"fix reverse dns for ",
        r"ips with missing ptr records",
        r"no ptr record found\.",
        r"please get a custom reverse dns name from your isp for your host",
        r"ptr record setup",
        r"reverse dns failed",
        r"reverse dns required",
        r"sender ip reverse lookup rejected",
        r"the ip address sending this message does not have a ptr record setup",  # Gmail
        r"the corresponding forward dns entry does not point to the sending ip",  # Gmail
        r"this system will not accept messages from servers/devices with no reverse dns",
        r"unresolvable relay host name",
        r"we do not accept mail from hosts with dynamic ip or generic dns ptr-records",
        r"domain " + GAP + r" mismatches client ip",
        r"dns lookup failure: " + GAP + r" try again later",
        r"reverse dns lookup for host " + GAP + r" failed permanently",
        r"server access " + GAP + r" forbidden by invalid rdns record of your mail server",
        r"service permits " + GAP + r" unverifyable sending ips",
    ),
    R.NOTCOMPLIANTRFC: (
        r"duplicate header",
        r"this message is not rfc 5322 compliant",
        r"https://support\.google\.com/mail/\?p=rfcmessagenoncompliant",
        r" multiple " + GAP + r" header",
    ),
    R.BADREPUTATION: (
        r"a poor email reputation score",
        r"has been temporarily rate limited due to ip reputation",  # Microsoft 4.7.650
        r"ip/domain reputation problems",
        r"likely suspicious due to the very low reputation",  # Gmail
        r"none/bad reputation",  # T-Online
        r"temporarily deferred due to unexpected volume or user complaints",  # Yahoo TSS04
        r"the sending mta's poor reputation",
    ),
    R.CONTENTERROR: (
        r"duplicate header",
        r"header size exceeds maximum permitted",
        r"improper use of 8-bit data in message header",
        r"message header size, or recipient list, exceeds policy limit",
        r"message mime complexity exceeds the policy maximum",
        r"routing loop detected -- too many received: headers",
        r"this message contain invalid mime headers",
        r"this message contain improperly-formatted binary content",
        r"this message contain text that uses unnecessary base64 encoding",
    ),
    R.REJECTED: (
        r"access denied \(in reply to mail from command\)",
        r"access denied \(sender blacklisted\)",
        r"address rejected",
        r"administrative prohibition",
        r"batv failed to verify",  # SonicWall
        r"batv validation failure",  # SonicWall
        r"backscatter protection detected an invalid or expired email address",  # MDaemon
        r"because the sender isn't on the recipient's list of senders to accept mail from",
        r"bogus mail from",  # IMail
        r"can't determine purported responsible address",
        r"connections not accepted from servers without a valid sender domain",
        r"denied \[bouncedeny\]",  # McAfee
        r"denied by secumail valid-address-filter",
        r"delivery not authorized, message refused",
        r"does not exist e2110",
        r"domain of sender address ",
        r"email address is on senderfilterconfig list",
        r"emetteur invalide",  # Orange, La Poste
        r"empty envelope senders not allowed",
        r"envelope blocked - ",
        r"error: no third-party dsns",  # SpamWall
        r"from: domain is invalid\. please provide a valid from:",
        r"fully qualified email address required",  # McAfee
        r"invalid domain, see <url:",
        r"invalid sender",
        r"is not a registered gateway user",
        r"mail from not owned by user",
        r"message rejected: email address is not verified",
        r"mx records for ",
        r"null sender is not allowed",
        r"recipient addresses rejected : access denied",
        r"recipient not accepted\. \(batv: no tag",
        r"returned mail not accepted here",
        r"rfc 1035 violation: recursive cname records for",
        r"rule imposed mailbox access for",  # MailMarshal
        r"sending this from a different address or alias using the ",
        r"sender address has been blacklisted",
        r"sender email address rejected",
        r"sender is in my black list",
        r"sender is spammer",
        r"sender not pre-approved",
        r"sender rejected",
        r"sender domain is empty",
        r"sender verify failed",  # Exim callout
        r"sender was rejected",  # qmail
        r"spam reporting address",  # SendGrid: the address complained before
        r"syntax error: empty email address",
        r"the message has been rejected by batv defense",
        r"this server does not accept mail from",
        r"transaction failed unsigned dsn for",
        r"unroutable sender address",
        r"you are not allowed to post to this mailing list",
        r"you are sending to/from an address that has been blacklisted",
        r"your access to submit messages to this e-mail system has been rejected",
        r"your email address has been blacklisted",  # MessageLabs
    ),
    R.HOSTUNKNOWN: (
        r"domain does not exist",
        r"domain is not reachable",
        r"domain must exist",
        r"host or domain name not found",
        r"host unknown",
        r"host unreachable",
        r"mail domain mentioned in email address is unknown",
        r"name or service not known",
        r"no such domain",
        r"recipient address rejected: unknown domain name",
        r"recipient domain must exist",
        r"the account or domain may not exist",
        r"unknown host",
        r"unroutable address",
        r"unrouteable address",
        r"553 " + GAP + r" does not exist",
    ),
    R.SPAMDETECTED: (
        r" - spam",
        r"//www\.spamhaus\.org/help/help_spam_16\.htm",
        r"//dsbl\.org/help/help_spam_16\.htm",
        r"//mail\.163\.com/help/help_spam_16\.htm",
        r"554 5\.7\.0 reject, id=",
        r"appears to be unsolicited",
        r"blacklisted url in message",
        r"block for spam",
        r"blocked by policy: no spam please",
        r"blocked by spamassassin",
        r"blocked for abuse\. see http://att\.net/blocks",  # AT&T
        r"cannot be forwarded because it was detected as spam",
        r"considered unsolicited bulk e-mail \(spam\) by our mail filters",
        r"considered as spam",
        r"content filter rejection",
        r"cyberoam anti spam engine has identified this email as a bulk email",
        r"denied due to spam list",
        r"flagged as spam",
        r"high probability of spam",
        r"is classified as spam and is rejected",
        r"listed in work\.drbl\.imedia\.ru",
        r"the mail server detected your message as spam and has prevented delivery\.",
        r"mail appears to be unsolicited",
        r"mail content denied",  # Tencent
        r"may consider spam",
        r"message considered as spam or virus",
        r"message contains spam or virus",
        r"message content rejected",
        r"message detected as spam",
        r"message filtered",
        r"message looks like spam",
        r"message is being rejected as it seems to be a spam",
        r"message refused by mailmarshal spamprofiler",
        r"message refused by trustwave seg spamprofiler",
        r"message rejected as spam",
        r"message rejected because of unacceptable content",
        r"message rejected due to suspected spam content",
        r"message rejected for policy reasons",
        r"message was rejected for possible spam/virus content",
        r"our email server thinks this email is spam",
        r"our system has detected that this message is ",  # Gmail
        r"probable spam",
        r"reject bulk\.advertising",
        r"rejected by spam filter",
        r"rejected: spamassassin score ",
        r"rejected - bulk email",
        r"rejecting banned content",
        r"rejecting mail content",
        r"related to content with spam-like characteristics",
        r"sender domain listed at ",
        r"sending address not accepted due to spam filter",
        r"spam blocked",
        r"spam check",
        r"spam content matched",
        r"spam detected",
        r"spam email",
        r"spam message rejected",  # Mail.ru, Rambler
        r"spam not accepted",
        r"spam refused",
        r"spam rejection",
        r"spam score ",
        r"spambouncer identified spam",
        r"spamming not allowed",
        r"too many spam complaints",
        r"too much spam\.",  # EarthLink
        r"suspected spam",
        r"suspicion of spam",
        r"the email message was detected as spam",
        r"the message has been rejected by spam filtering engine",
        r"the message was rejected due to classification as bulk mail",
        r"the content of this message looked like spam",  # SendGrid
        r"this message appears to be spam",
        r"this message has been identified as spam",
        r"this message has been scored as spam with a probability",
        r"this message was classified as spam",
        r"this message was rejected by recurrent pattern detection system",
        r"transaction failed spam message not queued",  # SendGrid
        r"we dont accept spam",
        r"your email appears similar to spam we have received before",
        r"your email breaches local uribl policy",
        r"your email had spam-like ",
        r"your email is considered spam",
        r"your email is probably spam",
        r"your email was detected as spam",
        r"your message as spam and has prevented delivery",
        r"your message has been temporarily blocked by our filter",
        r"your message has been rejected because it appears to be spam",
        r"your message has triggered a spam block",
        r"your message may contain the spam contents",
        r"your message failed several antispam checks",
        r"greylisted" + GAP + r" please try again in",
        r"mail score \(" + GAP + r" over ",
        r"mail rejete\. mail rejected\. " + GAP + r"506",  # Orange OFR_506
        r"our filters rate at and above " + GAP + r" percent probability of being spam",
        r"rejected by " + GAP + r" \(spam\)",
        r"rejected due to spam " + GAP + r"(?:classification|content)",
        r"rule imposed as " + GAP + r" is blacklisted on",
        r"spam " + GAP + r" exceeded",
        r"this message scored " + GAP + r" spam points",
    ),
    R.SPEEDING: (
        r"mail sent from your ip address has been temporarily rate limited",
        r"exceeded message rate limit",
        r"please try again slower",
        r"receiving mail too quickly",
        r"receiving mail at a rate that prevents additional messages from being delivered",
        r"too many recent messages",
    ),
    R.TOOMANYCONN: (
        r"all available ips are at maximum connection limit",  # SendGrid
        r"connection rate limit exceeded",
        r"exceeds per-domain connection limit for",
        r"has exceeded the max emails per hour ",
        r"throttling failure: daily message quota exceeded",  # Amazon SES
        r"throttling failure: maximum sending rate exceeded",  # Amazon SES
        r"too many connections",
        r"too many concurrent smtp connections",  # Microsoft
        r"too many errors from your ip",  # Free
        r"too many recipients",
        r"too many smtp sessions for this host",  # Sendmail
        r"trop de connexions, ",  # Orange
        r"we have already made numerous attempts to deliver this message",
    ),
    R.BLOCKED: (
        r" said: 550 blocked",
        r"//www\.spamcop\.net/bl\.",
        r"bad sender ip address",
        r"banned sending ip",  # Microsoft
        r"blacklisted by",
        r"blocked using ",
        r"blocked - see http",
        r"dnsbl:attrbl",
        r"client host rejected: abus detecte gu_eib_0[24]",  # SFR
        r"client host rejected: may not be mail exchanger",
        r"client host rejected: was not authenticated",  # Microsoft
        r"confirm this mail server",
        r"connection dropped",
        r"connection refused by",
        r"connection reset by peer",
        r"connection was dropped by remote host",
        r"connections not accepted from ip addresses on spamhaus xbl",  # Yahoo BL23
        r"currently sending spam see: ",
        r"domain does not exist:",
        r"dynamic/zombied/spam ips blocked",
        r"error: no valid recipients from ",
        r"esmtp not accepting connections",  # iCloud
        r"extreme bad ip profile",
        r"go away",
        r"helo command rejected:",
        r"host network not allowed",
        r"hosts with dynamic ip",
        r"invalid ip for sending mail of domain",
        r"ip address is block listed",
        r"is in a black list",
        r"is not allowed to send mail from",
        r"mailfrom domain is listed in spamhaus",
        r"no access from mail server",
        r"no matches to nameserver query",
        r"not currently accepting mail from your ip",  # Microsoft
        r"part of their network is on our block list",  # Microsoft S3150
        r"please use the smtp server of your isp",
        r"refused - see http",
        r"rejected - multi-blacklist",
        r"rejected because the sending mta or the sender has not passed validation",
        r"rejecting open proxy",  # Sendmail
        r"sender ip address rejected",
        r"server access forbidden by your ip ",
        r"service not available, closing transmission channel",
        r"smtp error from remote mail server after initial connection:",  # Exim
        r"sorry, that domain isn't in my list of allowed rcpthosts",
        r"sorry, your remotehost looks suspiciously like spammer",
        r"temporarily deferred due to unexpected volume or user complaints",  # Yahoo TSS04
        r"to submit messages to this e-mail system has been rejected",
        r"too many spams from your ip",  # Free
        r"too many unwanted messages have been sent from the following ip address above",
        r"was blocked by ",
        r"we do not accept mail from dynamic ips",  # Mail.ru
        r"you are not allowed to connect",
        r"you are sending spam",
        r"your ip address is listed in the rbl",
        r"your network is temporary blacklisted",
        r"your server requires confirmation",
        r"\(" + GAP + r"@" + GAP + r":blocked\)",
        r"access from ip address " + GAP + r" blocked",
        r"client host " + GAP + r" blocked using",
        r"connections will not be accepted from " + GAP + r" because the ip is in spamhaus",
        r"dnsbl:rbl " + GAP + r">_is_blocked",
        r"email blocked by " + GAP + r"(?:\.barracudacentral\.org|spamhaus)",
        r"host " + GAP + r" refused to talk to me: " + GAP + r" blocked",
        r"ip " + GAP + r" is blocked by earthlink",
        r"is in an " + GAP + r"rbl on ",
        r"mail server at " + GAP + r" is blocked",
        r"mail from " + GAP + r" refused:",
        r"mail from " + GAP + r" refused, see " + GAP + r"orbs",
        r"message from " + GAP + r" rejected based on blacklist",
        r"messages from " + GAP + r" temporarily deferred due to user complaints",  # Yahoo
        r"server ip " + GAP + r" listed as abusive",
        r"sorry! your ip address" + GAP + r" is blocked by rbl",
        r"the (?:domain|email|ip)" + GAP + r" is blacklisted",
        r"veuillez essayer plus tard\. service refused, please try later\. "
        + GAP
        + r"(?:103|510)",  # Orange, La Poste
        r"your access ip" + GAP + r" has been rejected",
        r"your sender's ip address is listed at " + GAP + r"\.abuseat\.org",
    ),
    R.VIRUSDETECTED: (
        r"it has a potentially executable attachment",
        r"the message was rejected because it contains prohibited virus or spam content",
        r"this form of attachment has been used by recent viruses or other malware",
        r"virus detected",
        r"virus phishing/malicious_url detected",
        r"your message was infected with a virus",
    ),
    R.POLICYVIOLATION: (
        r"an illegal attachment on your message",
        r"because the recipient is not accepting mail with ",  # AOL
        r"by non-member to a members-only list",
        r"closed mailing list",
        r"denied by policy",
        r"email not accepted for policy reasons",
        r"email rejected due to security policies",  # Mimecast
        r"header are not accepted",
        r"header error",
        r"local policy violation",
        r"message bounced due to organizational settings",
        r"message given low priority",
        r"message not accepted for policy reasons",
        r"message rejected due to local policy",
        r"messages with multiple addresses",
        r"rejected for policy reasons",
        r"protocol violation",
        r"the email address used to send your message is not subscribed to this group",
        r"the message was rejected by organization policy",
        r"this message was blocked because its content presents a potential",
        r"we do not accept messages containing images or other attachments",
        r"you're using a mass mailer",
        r"you have exceeded the" + GAP + r"allowable number of posts without solving a captcha",
    ),
    R.SYSTEMERROR: (
        r"aliasing/forwarding loop broken",
        r"can't create user output file",
        r"could not load drd for domain",
        r"internal error reading data",  # Microsoft
        r"internal server error: operation now in progress",  # Microsoft
        r"interrupted system call",
        r"it encountered an error while being processed",
        r"it would create a mail loop",
        r"local configuration error",
        r"local error in processing",
        r"loop was found in the mail exchanger",
        r"loops back to myself",
        r"mail system configuration error",
        r"queue file write error",
        r"recipient deferred because there is no mdb",
        r"remote server is misconfigured",
        r"server configuration error",
        r"service currently unavailable",
        r"system config error",
        r"temporary local problem",
        r"timeout waiting for input",
        r"transaction failed ",
        r"unable to connect " + GAP + r"daemon",
    ),
    R.NETWORKERROR: (
        r"could not connect and send the mail to",
        r"dns records for the destination computer could not be found",
        r"hop count exceeded - possible mail loop",
        r"host is unreachable",
        r"host name lookup failure",
        r"host not found, try again",
        r"loop detected",
        r"mail forwarding loop for ",
        r"malformed name server reply",
        r"malformed or unexpected name server reply",
        r"maximum forwarding loop count exceeded",
        r"message looping",
        r"message probably in a routing loop",
        r"no route to host",
        r"too many hops",
        r"unable to resolve route ",
        r"unrouteable mail domain",
    ),
    R.SYSTEMFULL: (
        r"mail system full",
        r"requested mail action aborted: exceeded storage allocation",  # Exchange
    ),
    R.NOTACCEPT: (
        r"does not accept mail \(nullmx\)",
        r"host/domain does not accept mail",  # iCloud
        r"host does not accept mail",  # Sendmail
        r"mail receiving disabled",
        r"name server: \.: host not found",  # Sendmail
        r"no mx record found for domain=",  # Yahoo
        r"no route for current request",
        r"smtp protocol returned a permanent error",
    ),
    R.EXPIRED: (
        r"connection timed out",
        r"could not find a gateway for",
        r"delivery attempts will continue to be",
        r"delivery expired",
        r"delivery time expired",
        r"failed to deliver to domain ",
        r"giving up on",
        r"have been failing for a long time",
        r"has been delayed",
        r"it has not been collected after",
        r"message expired after sitting in queue for",
        r"message expired, cannot connect to remote server",
        r"message expired, connection refulsed",
        r"message timed out",
        r"retry time not reached for any host after a long failure period",
        r"server did not respond",
        r"this message has been in the queue too long",
        r"unable to deliver message after multiple retries",
        r"was not reachable within the allowed queue period",
        r"your message could not be delivered for more than",
        r"could not be delivered for" + GAP + r" days",
    ),
    R.FAILEDSTARTTLS: (
        r"starttls is required to send mail",
        r"tls required but not supported",  # SendGrid
    ),
    R.SECURITYERROR: (
        r"account not subscribed to ses",
        r"authentication credentials invalid",
        r"authentication failure",
        r"authentication required",
        r"authentication turned on in your email client",
        r"executable files are not allowed in compressed files",
        r"insecure mail relay",
        r"recipient address rejected: access denied",
        r"sorry, you don't authenticate or the domain isn't in my list of allowed rcpthosts",
        r"unauthenticated senders not allowed",
        r"verification failure",
        r"you are not authorized to send mail, authentication is required",
        r"authentication failed; server " + GAP + r" said: ",  # Postfix
        r"authentification invalide" + GAP + r"305",  # Orange
        r"authentification requise" + GAP + r"402",  # La Poste
        r"domain " + GAP + r" is a dead domain",
        r"user " + GAP + r" is not authorized to perform ses:sendrawemail on resource",
    ),
    R.MAILERERROR: (
        r" \|\| exit ",
        r"procmail: ",
        r"bin/procmail",
        r"bin/maidrop",
        r"command failed: ",
        r"command died with status ",
        r"command output:",
        r"mailer error",
        r"pipe to \|/",
        r"x-unix; ",
    ),
    R.VACATION: (
        r"i am away on vacation",
        r"i am away until",
        r"i am out of the office",
        r"i will be traveling for work on",
    ),
}

# Replies about the recipient's address (or the client's IP) that the rejected table must not
# read as a rejected sender.
REJECTED_NOT = re.compile(
    r"5\.1\.0 address rejected|recipient address rejected|sender ip address rejected"
)

# Replies that name a reason only as the answer to one SMTP command (Postfix adds "(in reply to
# MAIL FROM command)"; other MTAs report the command apart from the text).
ANSWERING: dict[tuple[Reason, str], re.Pattern[str]] = {
    (R.REJECTED, "MAIL"): re.compile(r"access denied(?:\.? \(in reply to|\.?$)"),
    (R.USERUNKNOWN, "RCPT"): re.compile(r"recipient address rejected\.?(?: \(in reply to|$)"),
}

SCANNER = Scanner(PHRASES)


def reasons_in(text: str) -> frozenset[Reason]:
    """Every reason one of whose phrases the lower-cased reply text holds."""
    found = SCANNER.keys_in(text)
    if R.REJECTED in found and REJECTED_NOT.search(text):
        return found - {R.REJECTED}
    return found


def answered(text: str, command: str | None) -> frozenset[Reason]:
    """The reasons the reply names as the answer to that SMTP command (`ANSWERING`)."""
    if not command:
        return frozenset()
    return frozenset(
        reason
        for (reason, answering), pattern in ANSWERING.items()
        if answering == command and pattern.search(text)
    )
