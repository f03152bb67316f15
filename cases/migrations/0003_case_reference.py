import secrets

from django.db import migrations, models

import cases.identifiers


def give_references(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    for case in Case.objects.filter(reference__isnull=True).only("id"):
        Case.objects.filter(pk=case.pk).update(reference=secrets.token_hex(10))


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="reference",
            field=models.CharField(max_length=32, null=True, verbose_name="reference for platforms"),
        ),
        migrations.RunPython(give_references, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="case",
            name="reference",
            field=models.CharField(
                default=cases.identifiers.generate_case_reference,
                max_length=32,
                unique=True,
                verbose_name="reference for platforms",
            ),
        ),
    ]
