/* commands.c — the table of the liaison CLI: every command and
 * sub-command with its --help text, its options, its positional arguments
 * (and the usage error when some are missing), what it needs started, and
 * its handlers in cmd_*.c. The front end (command.c) does the rest. To add a
 * command: its help text and row here, a line in cmd_usage_text (liaison
 * --help), its handlers in a cmd_*.c declared in command.h, and its entry
 * in docs/man/liaison.1. */
#include <stddef.h>

#include "command.h"
#include "i18n.h"
#include "measure.h"

const char cmd_usage_text[] = N_(
	"usage: liaison [--profile NAME] [--json] [--ca FILE] [--passphrase-file FILE]\n"
	"               COMMAND [ARGS]\n"
	"\n"
	"Secure messaging for healthcare coordination (CPTS).\n"
	"\n"
	"Commands:\n"
	"  enrol --server wss://HOST:PORT --invite CODE [--device-name NAME] [--yes]\n"
	"        [--recovery-code CODE]\n"
	"                          enrol this device with an invite from your administrator\n"
	"  login                   connect and log in (checks the profile and the server)\n"
	"  whoami                  show who you are and which device this is\n"
	"  passphrase [--new-passphrase-file FILE]\n"
	"                          change this profile's passphrase\n"
	"  devices [list]          list your devices\n"
	"  devices revoke DEVICE_ID\n"
	"                          revoke one of your devices\n"
	"  directory search [QUERY] [--profession CODE] [--org ORG_ID] [--limit N]\n"
	"                          search enrolled professionals\n"
	"  channel create --kind case|circle|team|direct [--history shared|from_join]\n"
	"                 [--topic TEXT]\n"
	"  channel add CHANNEL USER [--role member|admin] | remove CHANNEL USER |\n"
	"          leave CHANNEL | role CHANNEL USER ROLE | members CHANNEL | list\n"
	"                          end-to-end encrypted channels and their signed members\n"
	"  send CHANNEL [TEXT] [--attach FILE]\n"
	"                          send an encrypted message (text from stdin if omitted)\n"
	"  read CHANNEL [--limit N]\n"
	"                          fetch, decrypt and show the thread\n"
	"  get ATTACHMENT [-o FILE]\n"
	"                          download and decrypt an attachment\n"
	"  watch                   show new messages, receipts and membership changes live\n"
	"  verify USER [--accept]  safety number with USER; --accept records the check\n"
	"  strict [on|off]         share keys only with verified users\n"
	"  backup setup | status | restore [--recovery-code CODE]\n"
	"                          encrypted key backup (recovery code shown once)\n"
	"  mail [on|off|status]    e-mails when something waits for you (no content)\n"
	"\n");

/* Split in two: a C17 compiler need not accept a longer string literal. */
const char cmd_usage_more[] = N_(
	"Care pathways:\n"
	"  pathways [PATHWAY]      the pathway templates and their schedules\n"
	"  discharge --pathway P --gp USER --pharmacist USER --nurse USER\n"
	"            [--cardiologist USER] [--flag F] --notice FILE.json [--letter FILE]\n"
	"            [--date YYYY-MM-DD] | --check --notice FILE.json\n"
	"                          hospital discharge: case thread, case, encrypted notice\n"
	"  ack CASE                read and acknowledge a case's discharge notice\n"
	"  cases [--overdue] [--mine] [--pathway P] [--all] [--closed] [--late]\n"
	"        [--unacked] [--alerts [--days N]]\n"
	"                          notifications, then your cases (or late steps,\n"
	"                          unacknowledged notices, recent alerts)\n"
	"  case show CASE | step complete|skip|reopen|assign|reschedule CASE STEP ... |\n"
	"       open CHANNEL --pathway P --j0 DATE | close CASE --reason R | flag CASE F...\n"
	"                          a case's timeline and its steps\n"
	"  alert CASE TEXT         high-priority message to the case's GP and cardiologist\n"
	"  measure CASE KIND VALUE... [--at DATE]\n"
	"                          weight, NYHA, bp, potassium, creatinine or PHQ-9; the\n"
	"                          pathway's thresholds checked here, alerts raised\n"
	"  report [--semester YYYY-S1|YYYY-S2 | --from DATE --to DATE] [--csv[-fr]] |\n"
	"         targets [set ID VALUE | remove ID]\n"
	"                          the CPTS indicators (coordinators)\n"
	"\n"
	"Medication reconciliation and quality circles:\n"
	"  conciliation start|source add|import|line add|compare|discrepancy set|\n"
	"               propose|resolve|review|close|show ... (alias: concil)\n"
	"                          BMO, prescription and discrepancies, in the case thread\n"
	"  circle share CIRCLE CASE EPISODE [--k N] [--dry-run] | k CIRCLE [N] |\n"
	"         session CIRCLE ... | review CIRCLE [--csv[-fr]]\n"
	"                          de-identified cases and meetings of a quality circle\n"
	"\n"
	"Global options:\n"
	"  --profile NAME          local profile to use (default \"default\")\n"
	"  --json                  print machine-readable JSON on stdout\n"
	"  --ca FILE               trust this CA certificate (PEM) for the server\n"
	"  --passphrase-file FILE  read the profile passphrase from FILE's first line\n"
	"  --version, --help\n"
	"\n"
	"Environment: LIAISON_HOME (profiles directory), LIAISON_PASSPHRASE,\n"
	"LIAISON_CA, LIAISON_DEBUG, LANG (fr_FR.UTF-8: in French). Run \"liaison COMMAND --help\" for a command's options.\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n");

/* ---- help texts, in the order of the table ---------------------------------------------- */

static const char enrol_help[] = N_(
	"usage: liaison [--profile NAME] enrol --server wss://HOST:PORT --invite CODE\n"
	"                                      [--device-name NAME] [--yes]\n"
	"\n"
	"Enrol this device with a one-time invite from your administrator. The invite\n"
	"fixes your name, RPPS number, profession, organisation and roles; they are\n"
	"shown for confirmation (skipped with --yes or when stdin is not a terminal).\n"
	"Creates the device's keys, sealed under a passphrase you choose (at least 8\n"
	"characters), in a new profile (default \"default\"), then logs in.\n"
	"\n"
	"  --server URL        the liaisond server, e.g. wss://liaison.example.org:7443\n"
	"  --invite CODE       the invite code, e.g. 7K2M-QX9D-4T1B-ZR8W-0CFE-N5HJ\n"
	"  --device-name NAME  a name for this device (default: the host name)\n"
	"  --yes               do not ask for confirmation\n"
	"  --recovery-code CODE  with a device invite (a further device of your\n"
	"                      account): your key backup's recovery code, to restore\n"
	"                      your identity key and your history (also\n"
	"                      $LIAISON_RECOVERY_CODE, or asked on the terminal)\n");

static const char login_help[] = N_(
	"usage: liaison [--profile NAME] login\n"
	"\n"
	"Connect to the profile's server and log in with this device's key.\n"
	"Publishes a new agreement key when the current one is 7 days old.\n"
	"Prints who you are logged in as; --json prints the server's login reply.\n");

static const char whoami_help[] = N_(
	"usage: liaison [--profile NAME] whoami\n"
	"\n"
	"Show your name, RPPS number, profession, organisation and roles, and this\n"
	"device's id and name, as recorded by the server.\n");

static const char passphrase_help[] = N_(
	"usage: liaison [--profile NAME] passphrase [--new-passphrase-file FILE]\n"
	"\n"
	"Change the passphrase of this profile. The current passphrase is asked\n"
	"first (or read from --passphrase-file or LIAISON_PASSPHRASE), then the new\n"
	"one twice on the terminal (or read from --new-passphrase-file FILE or\n"
	"LIAISON_NEW_PASSPHRASE; 8 characters or more). Every key and message kept\n"
	"on this device is sealed again under the new passphrase in one step: if\n"
	"it is interrupted, the old passphrase still works. No server is needed.\n"
	"Stop liaison watch on this profile first: it stops at its next write.\n");

static const struct cmd_opt passphrase_opts[] = {
	{"--new-passphrase-file", false},
	{NULL, false},
};

static const char devices_help[] = N_(
	"usage: liaison [--profile NAME] devices [list]\n"
	"       liaison [--profile NAME] devices revoke DEVICE_ID\n"
	"\n"
	"list    show your devices: id, name, created, last seen, revoked\n"
	"revoke  revoke one of your devices (signed with your identity key); it can\n"
	"        no longer log in. Revoking this device ends this profile's use.\n");

static const char directory_help[] = N_(
	"usage: liaison [--profile NAME] directory search [QUERY] [--profession CODE]\n"
	"                                [--org ORG_ID] [--limit N]\n"
	"\n"
	"Search enrolled professionals. QUERY matches part of a name (any case) or the\n"
	"start of an RPPS number. Filters combine.\n"
	"\n"
	"  --profession CODE  one of the profession codes below\n"
	"  --org ORG_ID       organisation id (32 hex characters)\n"
	"  --limit N          at most N results, 1 to 100 (default 50)\n"
	"\n"
	"Profession codes:\n");

static const char channel_help[] = N_(
	"usage: liaison channel create --kind case|circle|team|direct\n"
	"                              [--history shared|from_join] [--topic TEXT]\n"
	"       liaison channel add CHANNEL USER [--role member|admin]\n"
	"       liaison channel remove CHANNEL USER\n"
	"       liaison channel leave CHANNEL\n"
	"       liaison channel role CHANNEL USER member|admin\n"
	"       liaison channel members CHANNEL\n"
	"       liaison channel list\n"
	"\n"
	"A channel's membership is a log signed entry by entry by its admins' devices;\n"
	"every command verifies the whole log and shows a channel that fails as INVALID\n"
	"(no keys are shared in it). History: \"shared\" (default for case, circle and\n"
	"team) gives members added later the earlier messages; \"from_join\" (default\n"
	"for direct) does not. The topic travels encrypted; the server never sees it.\n"
	"CHANNEL: a channel id or its first 4+ hex characters. USER: a user id, or a\n"
	"name or RPPS number that matches one person in the directory.\n");

static const char send_help[] = N_(
	"usage: liaison send CHANNEL [TEXT] [--attach FILE]\n"
	"\n"
	"Send an end-to-end encrypted message. Without TEXT the text is read from\n"
	"standard input (up to 32 KiB). Before sending, the channel's signed\n"
	"membership log is verified and the message key is shared with every device\n"
	"of every member (and your other devices); a channel that does not verify is\n"
	"refused. --attach FILE encrypts and uploads a document (TEXT then is an\n"
	"optional caption).\n");

static const char read_help[] = N_(
	"usage: liaison read CHANNEL [--limit N]\n"
	"\n"
	"Fetch and decrypt the channel's new messages and show the last N (default 50)\n"
	"with time, sender, text and receipts. A message that cannot be decrypted\n"
	"shows why: waiting for its key (a key request goes to the sender's devices\n"
	"after a short wait), key withheld, sent before your first key, bad\n"
	"signature, unknown session. Messages already read stay readable here after\n"
	"you leave or are removed. Sends delivered/read receipts.\n");

static const char get_help[] = N_(
	"usage: liaison get ATTACHMENT [-o FILE]\n"
	"\n"
	"Download and decrypt an attachment (its id is shown by liaison read). It is\n"
	"saved under its own name in the current directory, or as FILE; an existing\n"
	"file is never overwritten. The file is written only if it decrypts whole\n"
	"(truncation and any change are detected).\n");

static const char watch_help[] = N_(
	"usage: liaison watch\n"
	"\n"
	"Stay connected and print new messages (decrypted), read receipts and\n"
	"membership changes of all your channels as they happen, and the care pathway\n"
	"events: alerts (prominently), case changes, acknowledgements and\n"
	"notifications (step due soon or overdue, notice escalated); process key shares\n"
	"and key requests, and share your current keys with members' new devices.\n"
	"Stops with Ctrl-C. With --json, one JSON object per line.\n"
	"While it runs, this profile is locked: other liaison commands on it wait\n"
	"for it to stop.\n");

static const char verify_help[] = N_(
	"usage: liaison verify USER [--accept]\n"
	"\n"
	"Show the safety number you share with USER (a user id, or a name or RPPS\n"
	"number matching one person). Compare it with theirs, in person or on the\n"
	"phone; if both are the same, run the command again with --accept to record\n"
	"that you verified them. --accept also accepts a changed identity key (key\n"
	"sharing with a user whose key changed stays blocked until then).\n");

static const char strict_help[] = N_(
	"usage: liaison strict [on|off]\n"
	"\n"
	"Strict mode: share message keys only with users you verified by safety\n"
	"number (liaison verify USER --accept). Without an argument, shows the mode.\n");

static const char mail_help[] = N_(
	"usage: liaison mail [on|off|status]\n"
	"\n"
	"When a discharge notice, an alert or a step has waited unseen for you for a\n"
	"while, the server can send you one e-mail saying only that something waits\n"
	"in Liaison, with the server's link: never a patient, a case or a name, and\n"
	"at most one e-mail per period. Your administrator sets the address.\n"
	"\n"
	"on       receive these e-mails (the default)\n"
	"off      receive none\n"
	"status   the address, whether they are on, and the last one (the default)\n");

static const char backup_help[] = N_(
	"usage: liaison backup setup\n"
	"       liaison backup status\n"
	"       liaison backup restore [--recovery-code CODE]\n"
	"\n"
	"setup    create a recovery key, shown ONCE as a recovery code: write it down\n"
	"         and keep it safe. Your identity key and every conversation key are\n"
	"         then stored on the server encrypted under it (new keys as they\n"
	"         arrive); the server cannot read them.\n"
	"status   whether this device uploads its keys to the backup\n"
	"restore  on another device of yours: fetch and decrypt the conversation keys\n"
	"         so that it reads the history. The code comes from --recovery-code,\n"
	"         $LIAISON_RECOVERY_CODE or a prompt.\n"
	"To enrol a new device of yours with the recovery code, use\n"
	"liaison enrol --invite DEVICE_INVITE --recovery-code CODE.\n");

static const char pathways_help[] = N_(
	"usage: liaison pathways [PATHWAY]\n"
	"\n"
	"The care pathways of this server (or one of them): what J0 is, the flags a\n"
	"case may carry, and each step with its deadline counted in days from J0\n"
	"(J2 = two days after J0), the professions responsible and * for mandatory\n"
	"steps. Pathways are data on the server (docs/PATHWAYS.md).\n");

static const char discharge_help[] = N_(
	"usage: liaison discharge --pathway hospital_discharge|heart_failure\n"
	"                         --gp USER --pharmacist USER --nurse USER\n"
	"                         [--cardiologist USER] [--flag FLAG[,FLAG]]\n"
	"                         --notice FILE.json [--letter FILE] [--date YYYY-MM-DD]\n"
	"       liaison discharge --check --notice FILE.json [--date YYYY-MM-DD]\n"
	"\n"
	"Notify the professionals who take over a patient leaving hospital:\n"
	"  1. check the notice file (the fields of the lettre de liaison, R1112-1-2;\n"
	"     format in docs/PATHWAYS.md, \"Discharge notice format\"): every problem\n"
	"     is shown with its field, and nothing is sent until the file is right;\n"
	"  2. create the case thread (encrypted, history shared) and add the GP, the\n"
	"     pharmacist, the nurse and the cardiologist;\n"
	"  3. open the case on the pathway, J0 = the discharge day (from the notice, or\n"
	"     --date); steps are assigned to the members by profession;\n"
	"  4. post the notice, encrypted, with the letter attached (--letter);\n"
	"  5. ask every member to acknowledge it: not acknowledged by all within 24 h,\n"
	"     it is escalated to the CPTS coordinators.\n"
	"The patient's name and INS are encrypted on this computer: the server sees\n"
	"only an opaque reference (P-…). USER: user id, RPPS, or a name that matches\n"
	"one person. --check only checks the notice file (no connection).\n");

static const char ack_help[] = N_(
	"usage: liaison ack CASE\n"
	"\n"
	"Acknowledge the discharge notice of a case you take part in: the notice is\n"
	"fetched and decrypted here and shown, then your acknowledgement is recorded\n"
	"and the list of who has acknowledged (and when) and who has not yet is\n"
	"printed. A notice not acknowledged by every member within 24 h is escalated\n"
	"to the CPTS coordinators. CASE: the patient reference (P-…) or the case id.\n");

static const char alert_help[] = N_(
	"usage: liaison alert CASE TEXT\n"
	"\n"
	"Send a high-priority message in the case thread (encrypted, like every\n"
	"message) and have the server push an alert to the GP and cardiologist members\n"
	"of the case, e.g. \"Prise de poids de 2,5 kg en 3 jours, dyspnée\".\n"
	"liaison read and liaison watch show alerts prominently.\n");

static const char measure_help[] = N_(
	"usage: liaison measure CASE KIND VALUE... [--at YYYY-MM-DD]\n"
	"\n"
	"Record a structured measurement in the case thread (encrypted, like every\n"
	"message), then check the thresholds of the case's pathway (liaison pathways)\n"
	"over the case's measurements, on this computer. For each threshold crossed,\n"
	"the server is asked to alert the people the pathway names for that kind of\n"
	"alert: it learns the kind (weight_gain, suicide_risk, ...), never the value.\n"
	"--at: the day it was measured (default today; not in the future).\n"
	"\n"
	"KIND and VALUE:\n");

static void
measure_help_more(void)
{
	fputs(_(measure_kinds_help), stdout);
	fputs(_("\nExamples:\n"), stdout);
	fputs("  liaison measure P-7K2MQX9D weight 82.5\n"
	      "  liaison measure P-7K2MQX9D bp 130/80 72 --at 2026-12-06\n"
	      "  liaison measure P-3QX7 phq9 1 1 2 1 0 1 1 0 1\n", stdout);
}

static const char cases_help[] = N_(
	"usage: liaison cases [--overdue] [--mine] [--pathway PATHWAY] [--all] [--closed]\n"
	"       liaison cases --late|--unacked [--pathway PATHWAY] [--all]\n"
	"       liaison cases --alerts [--days N] [--pathway PATHWAY] [--all]\n"
	"\n"
	"Your notifications not yet seen (step due soon or overdue, notice escalated,\n"
	"alerts), then your open cases: the patient reference and name, pathway, J0,\n"
	"next deadline, overdue steps, whether the notice was escalated, and how many\n"
	"members acknowledged it. The patient's name is decrypted here from the case\n"
	"thread; coordinators outside a thread see only the reference.\n"
	"A coordinator's list also covers the cases of her CPTS with --overdue, --mine\n"
	"and --all; a territory coordinator's --all covers every CPTS.\n"
	"Each notification says who (the alert's sender, the step's assignee), what\n"
	"(case, step) and the command to run next; an alert's text is shown when this\n"
	"device can decrypt it. A closed case's notifications are no longer shown.\n"
	"  --overdue   only cases with an overdue step\n"
	"  --mine      only cases with a step assigned to you\n"
	"  --pathway   only this pathway (see liaison pathways)\n"
	"  --all       every case of your CPTS (coordinators), of every CPTS (territory)\n"
	"  --closed    closed cases too\n"
	"  --late      instead of the cases, the late steps: each pending step past its\n"
	"              deadline, most overdue first, with its case, who holds it and\n"
	"              how many days late (UTC days)\n"
	"  --unacked   instead of the cases, the discharge notices still waiting for\n"
	"              acknowledgements (open cases), oldest first: who posted it and\n"
	"              when, how many acknowledged, who is missing, when it was escalated\n"
	"  --alerts    instead of the cases, the alerts of the last 7 days (open and\n"
	"              closed cases), newest first: when, which alert, who raised it\n"
	"  --days N    with --alerts: the last N days (1 to 31) instead of 7\n");

static const char case_help[] = N_(
	"usage: liaison case show CASE [--notice]\n"
	"       liaison case step complete CASE STEP [--note TEXT]\n"
	"       liaison case step skip CASE STEP --reason REASON [--note TEXT]\n"
	"       liaison case step reopen CASE STEP\n"
	"       liaison case step assign CASE STEP USER\n"
	"       liaison case step reschedule CASE STEP --due YYYY-MM-DD --reason REASON\n"
	"                                       [--note TEXT]\n"
	"       liaison case open CHANNEL --pathway PATHWAY --j0 YYYY-MM-DD [--flag F[,F]]\n"
	"                             [--cpts ORG_ID]\n"
	"       liaison case close CASE --reason completed|readmitted|deceased|moved|\n"
	"                                        consent_withdrawn\n"
	"       liaison case flag CASE FLAG... | --clear\n"
	"       liaison case event CASE EVENT --date YYYY-MM-DD\n"
	"\n"
	"show: the timeline of the case — each step with its deadline (J+n and the\n"
	"date), status (OVERDUE when late), assignee, who did it and when, the skip\n"
	"reason and the step's note decrypted from the thread; the discharge notice\n"
	"with who acknowledged it and when; escalation; with --notice, the whole\n"
	"discharge notice (lettre de liaison) decrypted here. --json for scripts.\n"
	"CASE: patient reference (P-…) or case id. STEP: the step id, its code\n"
	"(gp_consultation), or code#n for a repeated step (nurse_followup#3); a code\n"
	"alone means the first pending occurrence (reopen: the last closed one).\n"
	"--note TEXT is encrypted in the case thread. The skip REASON is one of\n"
	"patient_declined, not_indicated, done_elsewhere, patient_hospitalised,\n"
	"patient_unreachable, rescheduled, other: the server keeps it, so details\n"
	"go in --note. Only the assignee or a coordinator completes,\n"
	"skips, reassigns or reschedules a step; only a coordinator reopens one. flag\n"
	"sets the whole list of flags (the steps are re-dated). event records the day\n"
	"of an event the pathway dates steps from (remission: the continuation review\n"
	"is due 6 months later; no deadline before); again to correct the day.\n"
	"reschedule moves a pending step's due day (today or later) and keeps the move\n"
	"in the step's history (case show); its REASON is one of patient_request,\n"
	"patient_unavailable, patient_hospitalised, professional_unavailable,\n"
	"appointment_date, clinical_decision, other. A step of the coordinator can be\n"
	"assigned to a coordinator of the case's CPTS who is not in the thread.\n"
	"A case belongs to one CPTS, whose coordinators work it: --cpts names it (an\n"
	"organisation id of kind cpts, see liaison directory); by default, your own\n"
	"organisation if it is a CPTS, else that of the first member of the case\n"
	"thread who belongs to one (add the patient's GP to the thread first).\n");

static const char report_help[] = /* xgettext:no-c-format */ N_(
	"usage: liaison report [--semester YYYY-S1|YYYY-S2] [--cpts FINESS] [--csv[-fr] | --json]\n"
	"       liaison report --from YYYY-MM-DD --to YYYY-MM-DD [--cpts FINESS]\n"
	"                      [--csv[-fr] | --json]\n"
	"       liaison report targets [--json]\n"
	"       liaison report targets set ID VALUE [--direction ge|le]\n"
	"       liaison report targets remove ID\n"
	"\n"
	"The indicators of the CPTS over a semester (S1: 1 January to 30 June, S2: 1 July\n"
	"to 31 December; without a period, the current one) or a period (both days\n"
	"included), in days of the server's time\n"
	"zone, computed by the server from the cases' dates and steps alone (no patient\n"
	"data): discharge notices acknowledged (and within 24 h), letters sent on J0, GP\n"
	"consultations by J7, cardiology by J60, nurse follow-up, reconciliations,\n"
	"anxio-depressive pathway, activity, quality-circle sessions. Each row gives its\n"
	"numerator, denominator and value, then the same per pathway. A step counts once\n"
	"its due day is in the period and has passed; the others are \"not yet due\".\n"
	"For coordinators, over the cases of their CPTS; with the territory role, over\n"
	"every CPTS, or the one --cpts names (FINESS or id). --csv: comma-separated, with\n"
	"a header row (for a spreadsheet); in a French locale, or with --csv-fr, in the\n"
	"French form: ';' between cells, decimal comma, UTF-8 with a byte order mark.\n"
	"\n"
	"targets: the CPTS's quantified targets, shown beside each figure as met or not.\n"
	"set ID VALUE: indicator ID (1a, 2, 3b …) should reach VALUE (% for ratios, days\n"
	"or hours for delays); --direction ge (at least, the default for ratios and\n"
	"counts) or le (at most, the default for delays and overdue steps).\n");

static const char concil_help[] = N_(
	"usage: liaison conciliation SUBCOMMAND ...      (alias: liaison concil)\n"
	"\n"
	"Medication reconciliation (conciliation des traitements médicamenteux) in a\n"
	"case: the BMO (best possible medication history) from at least 3 distinct\n"
	"types of source, compared with the prescription; each discrepancy qualified,\n"
	"a resolution proposed (pharmacist or prescriber) and decided (prescriber\n"
	"only). Everything is encrypted in the case thread; the server receives only\n"
	"counts (no drug, no name, no text). docs/CONCILIATION.md has the formats.\n"
	"\n"
	"  start CASE --transition admission|transfer|discharge|community_post_discharge\n"
	"        [--prescriber USER] [--pharmacist USER] [--note TEXT]\n"
	"                          a new episode (you are its pharmacist or prescriber)\n"
	"  source add CASE EPISODE TYPE [--at YYYY-MM-DD] [--note TEXT]\n"
	"                          a source of the BMO: patient_interview, caregiver,\n"
	"                          medications_brought, gp_prescription,\n"
	"                          specialist_prescription, gp_contact, community_pharmacist,\n"
	"                          dossier_pharmaceutique, dmp, discharge_letter, home_nurse,\n"
	"                          nursing_home_record, reimbursement_history, other\n"
	"  import CASE EPISODE --bmo FILE.csv | --order FILE.csv [--replace]\n"
	"                          medication lines from CSV (columns inn, atc, strength,\n"
	"                          form, route, dose, unit, frequency, as_needed,\n"
	"                          self_medication, note); all or nothing\n"
	"  import CASE EPISODE --from-notice [--replace]\n"
	"                          the prescription from the treatments of the case's\n"
	"                          discharge notice (drug, ATC, dose, frequency, route)\n"
	"  line add CASE EPISODE --list bmo|order KEY=VALUE...\n"
	"                          one line, e.g. inn=furosémide atc=C03CA01 \"strength=40 mg\"\n"
	"                          dose=1 unit=comprimé frequency=matin\n"
	"  line remove CASE EPISODE N\n"
	"  compare CASE EPISODE    complete the BMO (3 source types) and compare it with\n"
	"                          the prescription: the discrepancies are proposed\n"
	"  discrepancy set CASE EPISODE N --intent INTENT [--severity SEVERITY] [--note TEXT]\n"
	"                          intent: intentional_documented, intentional_undocumented,\n"
	"                          unintentional (then --severity minor|significant|major|\n"
	"                          critical), undetermined\n"
	"  discrepancy add CASE EPISODE --type TYPE [--bmo N] [--order N] [--note TEXT]\n"
	"  propose CASE EPISODE N RESOLUTION [--note TEXT]\n"
	"  resolve CASE EPISODE N RESOLUTION [--note TEXT]   (prescribers only)\n"
	"                          prescription_corrected, documented_as_intentional,\n"
	"                          maintained_with_justification (needs --note)\n"
	"  review CASE EPISODE     hand over to the prescriber (awaiting_prescriber)\n"
	"  reopen CASE EPISODE     back to draft (to edit the BMO)\n"
	"  close CASE EPISODE      once every discrepancy is decided\n"
	"  show CASE [EPISODE]     the BMO beside the prescription, the discrepancies\n"
	"                          and the history, folded from every update in the thread\n"
	"  counts CASE EPISODE [--dry-run]\n"
	"                          send the de-identified counts again (--dry-run: only\n"
	"                          print them)\n"
	"\n"
	"CASE: the patient reference (P-…) or the case id. EPISODE: the episode id or\n"
	"its first 4+ characters (start prints it; show lists them). N: a line or\n"
	"discrepancy number as show prints it. Notes stay in the encrypted thread; keep\n"
	"them to what the care team needs.\n");

static const char circle_help[] = N_(
	"usage: liaison circle share CIRCLE CASE EPISODE [--k N] [--dry-run]\n"
	"       liaison circle k CIRCLE [N]\n"
	"       liaison circle session CIRCLE --date YYYY-MM-DD --theme ATC_PREFIX\n"
	"                      --attendee USER... [--cases N...] --consensus TEXT\n"
	"                      [--action TEXT...] [--follow-up YYYY-MM-DD]\n"
	"       liaison circle review CIRCLE [--csv | --csv-fr]\n"
	"\n"
	"Quality circles (channels of kind circle: liaison channel create --kind circle)\n"
	"review medication reconciliations together.\n"
	"  share    posts a de-identified copy of a reconciliation in the circle: the\n"
	"           drugs, discrepancy types, intents, severities, resolutions and the\n"
	"           roles that made them, the pathway and the transition, months; no\n"
	"           patient, no note, no name, no id, no day. Generalised so that it is\n"
	"           one of at least k (default 5) among the circle's copies: the quarter\n"
	"           instead of the month (the year if need be), the ATC class instead\n"
	"           of a rare substance; refused when still rarer. --dry-run prints\n"
	"           exactly what would be sent and what was generalised, and sends\n"
	"           nothing. Sharing the same reconciliation again replaces the\n"
	"           circle's copy of it.\n"
	"  k        this profile's k for the circle (N: set it; --k overrides it).\n"
	"  session  records a meeting: its date, its theme (an ATC prefix: C03, N06A…),\n"
	"           who attended (members of the circle), the cases reviewed (their\n"
	"           numbers in review), the consensus, the actions and the follow-up\n"
	"           date. Options ending in ... take several values (--attendee A B or\n"
	"           --attendee A --attendee B). No patient detail in the texts.\n"
	"  review   the cases shared in the circle and their aggregates (by ATC class,\n"
	"           by type, by intent, by severity, share resolved), computed here\n"
	"           from the decrypted copies, then the sessions. --csv: the aggregates\n"
	"           only, as CSV (dimension,key,count,share); --csv-fr or a French\n"
	"           locale: the French form (';', decimal comma, UTF-8 BOM).\n"
	"CIRCLE: the circle's channel id or its first 4+ characters. CASE, EPISODE: as\n"
	"for liaison conciliation.\n");

/* ---- options ------------------------------------------------------------------------------ */

#define VALUE false
#define FLAG  true

static const struct cmd_opt enrol_opts[] = {
	{"--server", VALUE}, {"--invite", VALUE}, {"--device-name", VALUE}, {"--yes", FLAG},
	{"--recovery-code", VALUE}, {NULL, VALUE},
};
static const struct cmd_opt directory_opts[] = {
	{"--profession", VALUE}, {"--org", VALUE}, {"--limit", VALUE}, {NULL, VALUE},
};
static const struct cmd_opt channel_opts[] = {
	{"--kind", VALUE}, {"--history", VALUE}, {"--topic", VALUE}, {"--role", VALUE},
	{NULL, VALUE},
};
static const struct cmd_opt send_opts[] = {{"--attach", VALUE}, {NULL, VALUE}};
static const struct cmd_opt read_opts[] = {{"--limit", VALUE}, {NULL, VALUE}};
static const struct cmd_opt get_opts[] = {{"-o", VALUE}, {"--output", VALUE}, {NULL, VALUE}};
static const struct cmd_opt verify_opts[] = {{"--accept", FLAG}, {NULL, VALUE}};
static const struct cmd_opt backup_opts[] = {{"--recovery-code", VALUE}, {NULL, VALUE}};
static const struct cmd_opt discharge_opts[] = {
	{"--pathway", VALUE}, {"--gp", VALUE},     {"--pharmacist", VALUE},
	{"--nurse", VALUE},   {"--cardiologist", VALUE}, {"--flag", VALUE},
	{"--notice", VALUE},  {"--letter", VALUE}, {"--date", VALUE},
	{"--check", FLAG},    {NULL, VALUE},
};
static const struct cmd_opt cases_opts[] = {
	{"--overdue", FLAG}, {"--mine", FLAG}, {"--all", FLAG}, {"--closed", FLAG},
	{"--late", FLAG},    {"--pathway", VALUE}, {"--unacked", FLAG}, {"--alerts", FLAG},
	{"--days", VALUE},   {NULL, VALUE},
};
static const struct cmd_opt case_opts[] = {
	{"--pathway", VALUE}, {"--j0", VALUE}, {"--flag", VALUE}, {"--reason", VALUE},
	{"--note", VALUE},    {"--clear", FLAG}, {"--cpts", VALUE}, {"--due", VALUE},
	{"--notice", FLAG},   {"--date", VALUE}, {NULL, VALUE},
};
static const struct cmd_opt measure_opts[] = {
	{"--at", VALUE}, {NULL, VALUE},
};
static const struct cmd_opt report_opts[] = {
	{"--from", VALUE}, {"--to", VALUE}, {"--semester", VALUE}, {"--csv", FLAG},
	{"--csv-fr", FLAG}, {"--direction", VALUE}, {"--cpts", VALUE}, {NULL, VALUE},
};
static const struct cmd_opt concil_start_opts[] = {
	{"--transition", VALUE}, {"--prescriber", VALUE}, {"--pharmacist", VALUE},
	{"--note", VALUE},       {NULL, VALUE},
};
static const struct cmd_opt concil_source_opts[] = {
	{"--at", VALUE}, {"--note", VALUE}, {NULL, VALUE},
};
static const struct cmd_opt concil_import_opts[] = {
	{"--bmo", VALUE}, {"--order", VALUE}, {"--from-notice", FLAG}, {"--replace", FLAG},
	{NULL, VALUE},
};
static const struct cmd_opt concil_line_opts[] = {{"--list", VALUE}, {NULL, VALUE}};
static const struct cmd_opt concil_disc_set_opts[] = {
	{"--intent", VALUE}, {"--severity", VALUE}, {"--note", VALUE}, {NULL, VALUE},
};
static const struct cmd_opt concil_disc_add_opts[] = {
	{"--type", VALUE}, {"--bmo", VALUE}, {"--order", VALUE}, {"--note", VALUE}, {NULL, VALUE},
};
static const struct cmd_opt note_opts[] = {{"--note", VALUE}, {NULL, VALUE}};
static const struct cmd_opt dry_run_opts[] = {{"--dry-run", FLAG}, {NULL, VALUE}};
static const struct cmd_opt csv_opts[] = {{"--csv", FLAG}, {"--csv-fr", FLAG}, {NULL, VALUE}};
static const struct cmd_opt share_opts[] = {{"--dry-run", FLAG}, {"--k", VALUE}, {NULL, VALUE}};

/* ---- sub-commands ------------------------------------------------------------------------- */

static const struct cmd concil_subs[] = {
	{.name = "start", .needs = CMD_E2E, .opts = concil_start_opts, .min_pos = 1,
	 .max_pos = 1, .missing = N_("conciliation start needs a CASE; see liaison conciliation "
		"--help"),
	 .check = cmd_concil_start_check, .run = cmd_concil_start_run},
	{.name = "source add", .needs = CMD_E2E, .opts = concil_source_opts, .min_pos = 3,
	 .max_pos = 3, .missing = N_("conciliation source add needs CASE EPISODE TYPE; see liaison "
		"conciliation --help"),
	 .check = cmd_concil_source_check, .run = cmd_concil_source_run},
	{.name = "import", .needs = CMD_E2E, .opts = concil_import_opts, .min_pos = 2,
	 .max_pos = 2, .missing = N_("conciliation import needs a CASE and an EPISODE; see liaison "
		"conciliation --help"),
	 .check = cmd_concil_import_check, .run = cmd_concil_import_run},
	{.name = "line add", .needs = CMD_E2E, .opts = concil_line_opts, .min_pos = 2,
	 .max_pos = 2 + 32, .missing = N_("conciliation line add needs a CASE and an EPISODE; see "
		"liaison conciliation --help"),
	 .check = cmd_concil_line_add_check, .run = cmd_concil_line_add_run},
	{.name = "line remove", .needs = CMD_E2E, .min_pos = 3, .max_pos = 3,
	 .missing = N_("conciliation line remove needs CASE EPISODE N; see liaison conciliation "
		"--help"),
	 .check = cmd_concil_line_remove_check, .run = cmd_concil_line_remove_run},
	{.name = "compare", .needs = CMD_E2E, .min_pos = 2, .max_pos = 2,
	 .missing = N_("conciliation compare needs a CASE and an EPISODE; see liaison conciliation "
		"--help"), .run = cmd_concil_compare_run},
	{.name = "discrepancy set", .needs = CMD_E2E, .opts = concil_disc_set_opts,
	 .min_pos = 3, .max_pos = 3,
	 .missing = N_("conciliation discrepancy set needs CASE EPISODE N; see liaison "
		"conciliation --help"),
	 .check = cmd_concil_disc_set_check, .run = cmd_concil_disc_set_run},
	{.name = "discrepancy add", .needs = CMD_E2E, .opts = concil_disc_add_opts,
	 .min_pos = 2, .max_pos = 2, .missing = N_("conciliation discrepancy add needs a CASE and "
		"an EPISODE; see liaison conciliation --help"),
	 .check = cmd_concil_disc_add_check, .run = cmd_concil_disc_add_run},
	{.name = "propose", .needs = CMD_E2E, .opts = note_opts, .min_pos = 4, .max_pos = 4,
	 .missing = N_("conciliation propose needs CASE EPISODE N RESOLUTION; see liaison "
		"conciliation --help"),
	 .check = cmd_concil_resolution_check, .run = cmd_concil_propose_run},
	{.name = "resolve", .needs = CMD_E2E, .opts = note_opts, .min_pos = 4, .max_pos = 4,
	 .missing = N_("conciliation resolve needs CASE EPISODE N RESOLUTION; see liaison "
		"conciliation --help"),
	 .check = cmd_concil_resolution_check, .run = cmd_concil_resolve_run},
	{.name = "review", .needs = CMD_E2E, .min_pos = 2, .max_pos = 2,
	 .missing = N_("conciliation review needs a CASE and an EPISODE; see liaison conciliation "
		"--help"), .run = cmd_concil_review_run},
	{.name = "reopen", .needs = CMD_E2E, .min_pos = 2, .max_pos = 2,
	 .missing = N_("conciliation reopen needs a CASE and an EPISODE; see liaison conciliation "
		"--help"), .run = cmd_concil_reopen_run},
	{.name = "close", .needs = CMD_E2E, .min_pos = 2, .max_pos = 2,
	 .missing = N_("conciliation close needs a CASE and an EPISODE; see liaison conciliation "
		"--help"), .run = cmd_concil_close_run},
	{.name = "show", .needs = CMD_E2E, .min_pos = 1, .max_pos = 2,
	 .missing = N_("conciliation show needs a CASE; see liaison conciliation "
		"--help"), .run = cmd_concil_show_run},
	{.name = "counts", .needs = CMD_E2E, .opts = dry_run_opts, .min_pos = 2, .max_pos = 2,
	 .missing = N_("conciliation counts needs a CASE and an EPISODE; see liaison conciliation "
		"--help"), .run = cmd_concil_counts_run},
	{.name = NULL},
};

static const struct cmd circle_subs[] = {
	{.name = "share", .needs = CMD_E2E, .opts = share_opts, .min_pos = 3, .max_pos = 3,
	 .missing = N_("circle share needs CIRCLE CASE EPISODE; see liaison circle --help"),
	 .run = cmd_circle_share_run},
	{.name = "k", .needs = CMD_E2E, .min_pos = 1, .max_pos = 2,
	 .missing = N_("circle k needs the CIRCLE (and N to set it); see liaison circle --help"),
	 .run = cmd_circle_k_run},
	{.name = "session", .needs = CMD_E2E, .parse = cmd_circle_session_parse,
	 .check = cmd_circle_session_check, .run = cmd_circle_session_run},
	{.name = "review", .needs = CMD_E2E, .opts = csv_opts, .min_pos = 1, .max_pos = 1,
	 .missing = N_("circle review needs the CIRCLE (its channel id); see liaison channel list"),
	 .check = cmd_csv_not_json, .run = cmd_circle_review_run},
	{.name = NULL},
};

/* ---- the commands, in the order of liaison --help ---------------------------------------- */

const struct cmd cmd_table[] = {
	{.name = "enrol", .needs = CMD_NOTHING, .help = enrol_help, .opts = enrol_opts,
	 .check = cmd_enrol_check, .run = cmd_enrol_run},
	{.name = "login", .needs = CMD_LOGIN, .help = login_help, .run = cmd_login_run},
	{.name = "whoami", .needs = CMD_LOGIN, .help = whoami_help, .run = cmd_whoami_run},
	{.name = "passphrase", .needs = CMD_NOTHING, .help = passphrase_help,
	 .opts = passphrase_opts, .run = cmd_passphrase_run},
	{.name = "devices", .needs = CMD_LOGIN, .help = devices_help, .max_pos = 2,
	 .check = cmd_devices_check, .run = cmd_devices_run},
	{.name = "directory", .needs = CMD_LOGIN, .help = directory_help,
	 .help_more = cmd_directory_help_more, .opts = directory_opts, .max_pos = 2,
	 .check = cmd_directory_check, .run = cmd_directory_run},
	{.name = "channel", .needs = CMD_E2E, .help = channel_help, .opts = channel_opts,
	 .max_pos = 4, .check = cmd_channel_check, .run = cmd_channel_run},
	{.name = "send", .needs = CMD_E2E, .help = send_help, .opts = send_opts, .min_pos = 1,
	 .max_pos = 2, .missing = N_("send needs a CHANNEL; see liaison send --help"),
	 .check = cmd_send_check, .run = cmd_send_run},
	{.name = "read", .needs = CMD_E2E, .help = read_help, .opts = read_opts, .min_pos = 1,
	 .max_pos = 1, .missing = N_("read needs a CHANNEL; see liaison channel list"),
	 .check = cmd_read_check, .run = cmd_read_run},
	{.name = "get", .needs = CMD_E2E, .help = get_help, .opts = get_opts, .min_pos = 1,
	 .max_pos = 1,
	 .missing = N_("get needs an ATTACHMENT id (32 hex characters, shown by liaison read)"),
	 .check = cmd_get_check, .run = cmd_get_run},
	{.name = "watch", .needs = CMD_E2E, .help = watch_help, .run = cmd_watch_run},
	{.name = "verify", .needs = CMD_E2E, .help = verify_help, .opts = verify_opts,
	 .min_pos = 1, .max_pos = 1,
	 .missing = N_("verify needs a USER; see liaison verify --help"), .run = cmd_verify_run},
	{.name = "strict", .needs = CMD_E2E, .help = strict_help, .max_pos = 1,
	 .check = cmd_strict_check, .run = cmd_strict_run},
	{.name = "backup", .needs = CMD_E2E, .help = backup_help, .opts = backup_opts,
	 .max_pos = 1, .check = cmd_backup_check, .run = cmd_backup_run},
	{.name = "mail", .needs = CMD_LOGIN, .help = mail_help, .max_pos = 1,
	 .check = cmd_mail_check, .run = cmd_mail_run},
	/* care pathways (docs/PATHWAYS.md) */
	{.name = "pathways", .needs = CMD_E2E, .help = pathways_help, .max_pos = 1,
	 .run = cmd_pathways_run},
	{.name = "discharge", .needs = CMD_E2E, .help = discharge_help, .opts = discharge_opts,
	 .check = cmd_discharge_check, .run = cmd_discharge_run},
	{.name = "ack", .needs = CMD_E2E, .help = ack_help, .min_pos = 1, .max_pos = 1,
	 .missing = N_("ack needs a CASE (its patient reference P-…); see liaison cases"),
	 .run = cmd_ack_run},
	{.name = "alert", .needs = CMD_E2E, .help = alert_help, .min_pos = 2, .max_pos = 2,
	 .missing = N_("alert needs a CASE and the TEXT of the alert; see liaison alert --help"),
	 .check = cmd_alert_check, .run = cmd_alert_run},
	{.name = "measure", .needs = CMD_E2E, .help = measure_help, .help_more = measure_help_more,
	 .opts = measure_opts, .min_pos = 3, .max_pos = 11,
	 .missing = N_("measure needs a CASE, a KIND and its VALUE(s); see liaison measure --help"),
	 .check = cmd_measure_check, .run = cmd_measure_run},
	{.name = "cases", .needs = CMD_E2E, .help = cases_help, .opts = cases_opts,
	 .run = cmd_cases_run},
	{.name = "case", .needs = CMD_E2E, .help = case_help, .opts = case_opts, .max_pos = 12,
	 .check = cmd_case_check, .run = cmd_case_run},
	{.name = "report", .needs = CMD_E2E, .help = report_help, .opts = report_opts,
	 .max_pos = 4, .check = cmd_report_check, .run = cmd_report_run},
	/* medication reconciliation and quality circles (docs/CONCILIATION.md) */
	{.name = "conciliation", .alias = "concil", .needs = CMD_E2E, .help = concil_help,
	 .subs = concil_subs,
	 .no_sub = N_("conciliation needs a subcommand; see liaison conciliation --help")},
	{.name = "circle", .needs = CMD_E2E, .help = circle_help, .subs = circle_subs,
	 .no_sub = N_("circle needs a subcommand: share, session or review"),
	 .subs_listed = N_(": share, session or review")},
	{.name = NULL},
};
