# ruff: noqa: N805, B008 - Foolscap's spelling of RemoteInterfaces: no self, constraints as defaults
"""A storage-server protocol declared the way a real Foolscap application declares it.

Modelled on Tahoe-LAFS 1.20's storage and introducer interfaces (the interface
names, method names, argument names and most constraints are theirs), written
afresh for these tests in Foolscap's own spelling: shared constraint names,
``ListOf(..., maxLength=...)``, ``DictOf``, ``ChoiceOf``, ``SetOf``, ``TupleOf``,
``Any()``, a RemoteInterface as an argument and a result type, ``Referenceable`` as a
canary, a plain tuple as a shorthand. Where Tahoe says ``str`` for byte strings
(operators, share types, reasons, version keys) this says ``bytes``, and the
announcement list has a ``maxLength``; Tahoe's docstrings are left out.

This module imports Foolscap. ``test_schema_interop`` loads the very same text a
second time with only the import line changed to ``octavo.tub``: both libraries
must take it unchanged and check exactly the same things.
"""

from foolscap.api import (
    Any,
    ChoiceOf,
    DictOf,
    IntegerConstraint,
    ListOf,
    Referenceable,
    RemoteInterface,
    SetOf,
    StringConstraint,
    TupleOf,
)

HASH_SIZE = 32
MAX_BUCKETS = 256

Hash = StringConstraint(maxLength=HASH_SIZE, minLength=HASH_SIZE)
FURL = StringConstraint(1000)
StorageIndex = StringConstraint(16)
ShareData = StringConstraint(None)
Number = IntegerConstraint(8)
Offset = Number
ReadSize = int
WriteEnablerSecret = Hash
LeaseRenewSecret = Hash
LeaseCancelSecret = Hash


class RIBucketWriter(RemoteInterface):
    def write(offset=Offset, data=ShareData):
        return None

    def close():
        return None

    def abort():
        return None


class RIBucketReader(RemoteInterface):
    def read(offset=Offset, length=ReadSize):
        return ShareData

    def advise_corrupt_share(reason=bytes):
        return None


TestVector = ListOf(TupleOf(Offset, ReadSize, bytes, bytes))
DataVector = ListOf(TupleOf(Offset, ShareData))
TestAndWriteVectorsForShares = DictOf(int, TupleOf(TestVector, DataVector, ChoiceOf(None, Offset)))
ReadVector = ListOf(TupleOf(Offset, ReadSize))
ReadData = ListOf(ShareData)


class RIStorageServer(RemoteInterface):
    __remote_name__ = "RIStorageServer.tahoe.allmydata.com"

    def get_version():
        return DictOf(bytes, Any())

    def allocate_buckets(
        storage_index=StorageIndex,
        renew_secret=LeaseRenewSecret,
        cancel_secret=LeaseCancelSecret,
        sharenums=SetOf(int, maxLength=MAX_BUCKETS),
        allocated_size=Offset,
        canary=Referenceable,
    ):
        return TupleOf(
            SetOf(int, maxLength=MAX_BUCKETS), DictOf(int, RIBucketWriter, maxKeys=MAX_BUCKETS)
        )

    def add_lease(
        storage_index=StorageIndex, renew_secret=LeaseRenewSecret, cancel_secret=LeaseCancelSecret
    ):
        return Any()

    def get_buckets(storage_index=StorageIndex):
        return DictOf(int, RIBucketReader, maxKeys=MAX_BUCKETS)

    def slot_readv(storage_index=StorageIndex, shares=ListOf(int), readv=ReadVector):
        return DictOf(int, ReadData)

    def slot_testv_and_readv_and_writev(
        storage_index=StorageIndex,
        secrets=TupleOf(WriteEnablerSecret, LeaseRenewSecret, LeaseCancelSecret),
        tw_vectors=TestAndWriteVectorsForShares,
        r_vector=ReadVector,
    ):
        return TupleOf(bool, DictOf(int, ReadData))

    def advise_corrupt_share(share_type=bytes, storage_index=StorageIndex, shnum=int, reason=bytes):
        return None


Announcement = TupleOf(FURL, str, str, str, str, str)


class RIIntroducerSubscriberClient(RemoteInterface):
    __remote_name__ = "RIIntroducerSubscriberClient.tahoe.allmydata.com"

    def announce(announcements=ListOf(Announcement, maxLength=100)):
        return None

    def set_encoding_parameters(parameters=(int, int, int)):
        return None


class RIIntroducerPublisherAndSubscriberService(RemoteInterface):
    __remote_name__ = "RIIntroducerPublisherAndSubscriberService.tahoe.allmydata.com"

    def get_version():
        return DictOf(str, Any())

    def publish(announcement=Announcement):
        return None

    def subscribe(subscriber=RIIntroducerSubscriberClient, service_name=str):
        return None
