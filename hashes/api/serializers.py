from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from partners.models import Feedback

from ..signal_types import SIGNAL_TYPES, normalise_hash


class HashInput(serializers.Serializer):
    signal_type = serializers.ChoiceField(choices=list(SIGNAL_TYPES))
    value = serializers.CharField(trim_whitespace=True, max_length=100)

    def validate(self, attrs):
        try:
            # PDQ quality is not asked of platforms here: they name a hash, they do not submit one.
            h = normalise_hash(signal_type=attrs["signal_type"], value=attrs["value"], quality=100)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"value": exc.messages}, code=exc.error_list[0].code) from None
        return {"signal_type": h.signal_type, "value": h.value}


class FeedbackInput(HashInput):
    verdict = serializers.ChoiceField(choices=Feedback.Verdict.values)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False, default=list
    )

    def validate(self, attrs):
        return {**super().validate(attrs), "verdict": attrs["verdict"], "tags": tuple(attrs["tags"])}


class FeedbackRequest(serializers.Serializer):
    feedback = FeedbackInput(many=True, allow_empty=False, max_length=1000)


class FeedbackResponse(serializers.Serializer):
    accepted = serializers.IntegerField(help_text=_("Verdicts recorded (repeats of the current one included)."))
    unknown = serializers.ListField(child=serializers.CharField(), help_text=_("Values we do not have."))


class FeedRecord(serializers.Serializer):
    id = serializers.IntegerField()
    signal_type = serializers.CharField()
    value = serializers.CharField()
    quality = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=["active", "withdrawn", "held"])
    modified_at = serializers.DateTimeField()


class FeedPage(serializers.Serializer):
    results = FeedRecord(many=True)
    next_cursor = serializers.CharField()
    has_more = serializers.BooleanField()


class HashDetail(FeedRecord):
    first_seen = serializers.DateTimeField()
    cases = serializers.IntegerField(help_text=_("How many victims' cases hold this hash."))
    feedback = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("How many platforms gave each verdict.")
    )


class LookupRequest(serializers.Serializer):
    hashes = HashInput(many=True, allow_empty=False, max_length=100)
    max_distance = serializers.IntegerField(min_value=0, max_value=64, default=31)


class SingleLookupRequest(HashInput):
    max_distance = serializers.IntegerField(min_value=0, max_value=64, default=31)

    def validate(self, attrs):
        return {**super().validate(attrs), "max_distance": attrs["max_distance"]}


class Match(serializers.Serializer):
    record_id = serializers.IntegerField()
    signal_type = serializers.CharField()
    value = serializers.CharField()
    distance = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["active", "withdrawn"])
    feedback = serializers.DictField(child=serializers.IntegerField())


class LookupResult(serializers.Serializer):
    signal_type = serializers.CharField()
    value = serializers.CharField()
    matches = Match(many=True)


class LookupResponse(serializers.Serializer):
    results = LookupResult(many=True)
