from django.db import migrations, models


def number_existing_records(apps, schema_editor):
    HashRecord = apps.get_model("hashes", "HashRecord")
    FeedClock = apps.get_model("hashes", "FeedClock")
    seq = 0
    last_time = None
    for record in HashRecord.objects.order_by("modified_at", "id").only("id", "modified_at"):
        seq += 1
        HashRecord.objects.filter(pk=record.pk).update(feed_seq=seq)
        last_time = record.modified_at
    FeedClock.objects.create(pk=1, last_seq=seq, last_time=last_time)


class Migration(migrations.Migration):
    dependencies = [("hashes", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="FeedClock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("last_seq", models.BigIntegerField(default=0)),
                ("last_time", models.DateTimeField(null=True)),
            ],
            options={
                "constraints": [models.CheckConstraint(condition=models.Q(("id", 1)), name="feedclock_single_row")],
            },
        ),
        migrations.RemoveIndex(model_name="hashrecord", name="hashrecord_feed_order"),
        migrations.AddField(
            model_name="hashrecord",
            name="feed_seq",
            field=models.BigIntegerField(null=True, verbose_name="feed position"),
        ),
        migrations.RunPython(number_existing_records, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="hashrecord",
            name="feed_seq",
            field=models.BigIntegerField(unique=True, verbose_name="feed position"),
        ),
    ]
