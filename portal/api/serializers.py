from rest_framework import serializers

from portal.models import Municipality, Office, PostalCode


class OfficeSerializer(serializers.ModelSerializer):
    trust = serializers.CharField(source="trust.code")

    class Meta:
        model = Office
        fields = ["code", "name", "kind", "trust"]


class OfficeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Office
        fields = ["code", "name", "kind"]


class MunicipalityBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Municipality
        fields = ["number", "name"]


class PostalCodeSerializer(serializers.ModelSerializer):
    postal_code = serializers.CharField(source="code")
    municipality = MunicipalityBriefSerializer()

    class Meta:
        model = PostalCode
        fields = ["postal_code", "place", "municipality"]
