"""``python -m infra.signing_keys {create,publish-next,activate,retire,show} --stage STAGE``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from infra.signing_keys.rotation import RotationRefused, activate, create, publish_next, retire
from infra.signing_keys.store import KeyStore

NEXT_STEP = {
    "create": "Deploy Django (`zappa update {stage}`) so its containers read the key.",
    "publish-next": "Run `zappa update {stage}` so Django publishes the next key; activate it 10 minutes later.",
    "activate": "Run `zappa update {stage}` so Django signs with the new key; retire the previous one 7 minutes later.",
    "retire": "Run `zappa update {stage}` so Django stops publishing the retired key.",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.signing_keys", description=__doc__)
    parser.add_argument("step", choices=["create", "publish-next", "activate", "retire", "show"])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--prefix", help="the SSM path (default: /polyglot/<stage>)")
    parser.add_argument("--region", default=None)
    parser.add_argument("--force", action="store_true", help="skip the wait (a leaked key)")
    args = parser.parse_args(argv)

    import boto3

    store = KeyStore(ssm=boto3.client("ssm", region_name=args.region), prefix=args.prefix or f"/polyglot/{args.stage}")
    before = store.slots_read()
    if args.step == "show":
        for kid in (key["kid"] for key in store.jwks_read()["keys"]):
            print(kid)
        return 0
    now = dt.datetime.now(dt.UTC)
    try:
        if args.step == "create":
            after = create(before)
        elif args.step == "publish-next":
            after = publish_next(before)
        elif args.step == "activate":
            after = activate(before, now=now, force=args.force)
        else:
            after = retire(before, now=now, force=args.force)
    except RotationRefused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    store.slots_write(before, after)
    print(f"{args.step}: done. {NEXT_STEP[args.step].format(stage=args.stage)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
