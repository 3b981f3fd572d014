"""python3 quickstart.py PHOTO_DIR   (STAMINA_ADDRESS, STAMINA_API_KEY; PYTHONPATH=.)"""
import os
import sys

from stamina_client import Client, job_pb2

with Client(os.environ.get("STAMINA_ADDRESS", "127.0.0.1:7070"),
            os.environ["STAMINA_API_KEY"]) as stamina:
    stamina.create_model("family", display_name="Family")
    anna = stamina.create_concept("family", "anna", token="<anna>")
    photos = [os.path.join(sys.argv[1], f) for f in sorted(os.listdir(sys.argv[1]))]
    stamina.upload_images(anna.name, photos)  # a progress bar on a terminal
    job = stamina.train(anna.name, steps=int(os.environ.get("STEPS", 200)))
    done = stamina.wait(job.name, on_update=lambda j: print(
        job_pb2.JobState.Name(j.state), f"{j.progress.step}/{j.progress.total_steps}"))
    image, = stamina.sample("family", "a photo of <anna>", seed=7)
    with open("anna.png", "wb") as f:
        f.write(image.png)
    print(f"{done.result_version}: anna.png")
