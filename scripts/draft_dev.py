#!/usr/bin/env python3
"""Turns twenty dev questions into drafts against a running server and prints, for each, the
addressee chosen against the department that owns the matter (stated below from the archive
before the drafts were run), and whether the archive's related material was found (and holds the
dev evidence). Then how many were routed right.

  scripts/draft_dev.py [--base URL] [--questions FILE]
"""
import argparse, json, unicodedata, urllib.request

# The magistratsafdeling that owns each matter, read from the archive: the department named as
# responsible in the source passage (who proposes, who the case was sent to or back to, whose
# unit did the work), not the body that held the meeting.
OWNER = {
    'd001': ('MSB', "rådmandsmøde i Sociale Forhold og Beskæftigelse om systemangst"),
    'd007': ('MTM', "overskudsjord fra bygge- og anlægsprojekter: Teknik og Miljøs klimaanalyse"),
    'd013': ('MSB', "beskæftigelsesindsatsen for ledige"),
    'd021': ('MTM', "udviklingsplanen for Pier 3, behandlet i Teknisk Udvalg"),
    'd027': ('BA', "frist for foretræde: byrådets egne arbejdsvilkår (Byrådsservice)"),
    'd035': ('MTM', "forslaget pålægger Teknik og Miljø at undersøge selvkørende biler"),
    'd044': ('MKB', "prøvehandlingerne bygger på Kultur og Borgerservices demokratiske samtale"),
    'd050': ('MSB', "MSB's 10 %-mål"),
    'd056': ('BA', "visionen for handelslivet er forankret i Borgmesterens Afdeling, Erhverv"),
    'd063': ('MTM', "Klima- og Bæredygtighedsudvalget, betjent af Teknik og Miljø"),
    'd069': ('MTM', "Aarhus Ejendomme er en del af MTM"),
    'qa014': ('MKB', "programsekretariatet placeres i Borgerservice i MKB"),
    'qa037': ('MTM', "Teknik og Miljøs analyse af klimaindsatsen"),
    'qa051': ('BA', "partigruppernes studentermedhjælp (Byrådsservice)"),
    'qa066': ('BA', "introduktionen af nyvalgte byrådsmedlemmer (Byrådsservice)"),
    'qb007': ('MTM', "anlægsbevillinger til cykelstier"),
    'qb017': ('BA', "budgetforslaget for 2026"),
    'qb025': ('BA', "svaret på forslaget tilbagesendes Borgmesterens Afdeling"),
    'qb042': ('MTM', "Teknik og Miljøs dispensation i erhvervsområdet"),
    'qb057': ('BA', "habilitet: byrådets egne regler (Byrådsservice)"),
}


def fold(s):
    return ' '.join(unicodedata.normalize('NFKC', s).lower().split())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--base', default='http://127.0.0.1:8080')
    ap.add_argument('--questions', default='../shared/eval/dev.jsonl')
    a = ap.parse_args()
    qs = {q['id']: q for q in (json.loads(l) for l in open(a.questions, encoding='utf-8') if l.strip())}
    found = evidence = right = 0
    print(f"{'id':6} {'til':4} {'want':4} {'related':7} {'evidence':8} reason / question")
    for qid, (want, why) in OWNER.items():
        q = qs[qid]
        body = {'member': 'Anna Hansen', 'party': 'SF', 'date': '2025-12-19', 'text': q['question']}
        req = urllib.request.Request(a.base + '/v1/inquiries/draft', data=json.dumps(body).encode(),
                                     headers={'content-type': 'application/json'})
        out = json.load(urllib.request.urlopen(req))
        related = out['related']
        held = fold(' '.join(r['quote'] for r in related))
        has = any(fold(e) in held for e in q['evidence'])
        code = out['addressee']['code'] or '?'
        found += bool(related)
        evidence += has
        right += code == want
        print(f"{qid:6} {code:4} {want:4} {len(related):7} {'yes' if has else 'no':8} {out['addressee']['reason'][:90]} / {q['question'][:60]}")
    print(f"drafts: {len(OWNER)}, routed to the owning department: {right}, with related material: {found}, holding the evidence: {evidence}")


if __name__ == '__main__':
    main()
