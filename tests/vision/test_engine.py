"""FaceEngine on real photos: detection, landmarks, embeddings, edge cases and threads."""

from __future__ import annotations

import itertools
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from facegate.imaging import load_image
from facegate.vision.engine import Face, FaceEngine, primary_face

GREY = (128, 128, 128)


# -- helpers -----------------------------------------------------------------


def assert_plausible_face(
    face: Face, image_shape: tuple[int, ...] | None = None, *, frontal: bool = True
) -> None:
    """What a user checks on a detection: a box around the landmarks, eyes above the mouth.

    ``frontal=False`` for faces that may be turned away: the nose tip of a profile
    can stick out of the box and need not lie between the eyes."""
    x, y, w, h = face.box
    assert w > 0 and h > 0
    assert 0.0 < face.score <= 1.0
    lm = face.landmarks
    assert lm.shape == (5, 2) and lm.dtype == np.float32
    slack = 0.05 if frontal else 0.15
    slack_x, slack_y = slack * w, slack * h
    assert np.all(lm[:, 0] >= x - slack_x) and np.all(lm[:, 0] <= x + w + slack_x), (face.box, lm)
    assert np.all(lm[:, 1] >= y - slack_y) and np.all(lm[:, 1] <= y + h + slack_y), (face.box, lm)
    right_eye, left_eye, nose, right_mouth, left_mouth = lm
    assert right_eye[0] < left_eye[0]  # the person's right eye is on the image's left
    assert max(right_eye[1], left_eye[1]) < min(right_mouth[1], left_mouth[1])
    if frontal:
        assert right_eye[0] < nose[0] < left_eye[0]
    if image_shape is not None:  # the face is (mostly) in the picture
        height, width = image_shape[:2]
        assert -0.5 * w < x < width - 0.5 * w and -0.5 * h < y < height - 0.5 * h


def on_canvas(image: np.ndarray, size: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """Paste ``image`` on a grey canvas of ``size`` (h, w) with its top-left at ``at`` (y, x)."""
    canvas = np.full((*size, 3), GREY, np.uint8)
    y, x = at
    h, w = image.shape[:2]
    canvas[y : y + h, x : x + w] = image
    return canvas


def resized(image: np.ndarray, factor: float) -> np.ndarray:
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=interpolation)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


def sample_files(folder: Path, pattern: str, count: int, seed: int = 7) -> list[Path]:
    files = sorted(folder.glob(pattern))
    assert len(files) >= count, f"{folder} holds only {len(files)} files"
    return random.Random(seed).sample(files, count)


# -- one LFW photo -------------------------------------------------------------


@pytest.mark.parametrize(
    "person, number",
    [("Colin_Powell", 1), ("George_W_Bush", 1), ("Tony_Blair", 2), ("Serena_Williams", 1)],
)
def test_one_face_with_landmarks_in_an_lfw_photo(engine: FaceEngine, lfw_photo, person, number) -> None:
    photo = lfw_photo(person, number)
    faces = engine.detect(photo)

    assert len(faces) == 1
    face = faces[0]
    assert_plausible_face(face, photo.shape)
    # deep-funneled LFW photos are centred on the face
    cx, cy = face.center
    assert abs(cx - 125) < 30 and abs(cy - 125) < 40
    assert 20 < face.eye_distance < 80


def test_detect_leaves_the_callers_image_alone(engine: FaceEngine, lfw_photo) -> None:
    photo = lfw_photo("Colin_Powell", 1)
    before = photo.copy()
    engine.detect(photo)
    engine.embed(photo, engine.detect(photo)[0])
    assert np.array_equal(photo, before)


def test_embedding_is_a_unit_float32_vector(engine: FaceEngine, lfw_photo, single_face) -> None:
    photo = lfw_photo("Colin_Powell", 1)
    face = single_face(photo)

    aligned = engine.align(photo, face)
    assert aligned.shape == (112, 112, 3) and aligned.dtype == np.uint8

    vector = engine.embed(photo, face)
    assert vector.shape == (engine.dimensions,) == (128,)
    assert vector.dtype == np.float32
    assert np.all(np.isfinite(vector))
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert np.array_equal(vector, engine.embed_aligned(aligned))


def test_same_person_scores_higher_than_different_people(engine: FaceEngine, lfw_photo) -> None:
    people = ["Colin_Powell", "George_W_Bush", "Tony_Blair", "Donald_Rumsfeld", "Serena_Williams", "Hugo_Chavez"]
    vectors: dict[tuple[str, int], np.ndarray] = {}
    for person in people:
        for number in (1, 2, 3):
            photo = lfw_photo(person, number)
            face = primary_face(engine.detect(photo), photo.shape)
            vectors[person, number] = engine.embed(photo, face)

    genuine, impostor = [], []
    for a, b in itertools.combinations(vectors, 2):
        (genuine if a[0] == b[0] else impostor).append(cosine(vectors[a], vectors[b]))

    assert len(genuine) == 18 and len(impostor) == 135
    # Every same-person pair beats every different-person pair on these photos,
    # and SFace's published cosine threshold (0.363) separates them.
    assert min(genuine) > max(impostor), (min(genuine), max(impostor))
    assert min(genuine) > 0.363 > max(impostor)
    # ...and each photo's nearest neighbour is another photo of the same person.
    for key, vector in vectors.items():
        nearest = max((k for k in vectors if k != key), key=lambda k: cosine(vector, vectors[k]))
        assert nearest[0] == key[0], (key, nearest)


# -- faces that fill the frame -----------------------------------------------


@pytest.mark.parametrize(
    "dataset, pattern",
    [("glint360k-celebrity-sample", "*/*.png"), ("orl-att-faces", "*/*.pgm")],
    ids=["glint360k-112x112", "orl-92x112-grey"],
)
def test_faces_filling_the_frame_are_found(engine: FaceEngine, datasets: Path, dataset, pattern) -> None:
    files = sample_files(datasets / dataset / "images", pattern, 40)
    found = 0
    for path in files:
        photo = load_image(path)
        faces = engine.detect(photo)
        if faces:
            found += 1
            face = faces[0]
            assert_plausible_face(face, photo.shape, frontal=False)
            # the face is most of the picture
            assert face.box[2] > 0.4 * photo.shape[1], (path, face.box)
    rate = found / len(files)
    print(f"{dataset}: faces found in {found}/{len(files)} = {rate:.0%}")
    assert rate >= 0.95


CLOSE_UPS = [
    ("Colin_Powell", 1),
    ("Colin_Powell", 2),
    ("George_W_Bush", 1),
    ("Tony_Blair", 2),
    ("Donald_Rumsfeld", 1),
    ("Gerhard_Schroeder", 1),
    ("Hugo_Chavez", 1),
    ("Serena_Williams", 1),
]


def test_close_ups_overflowing_the_frame_are_found_with_face_sized_boxes(
    engine: FaceEngine, lfw_photo, single_face
) -> None:
    """A close-up: the photo is cut 15% inside the face box on every side and enlarged
    to 400 px wide, so the face overflows the frame (YuNet often needs the padded retry)."""
    inset = 0.15
    found = 0
    for person, number in CLOSE_UPS:
        photo = lfw_photo(person, number)
        x, y, w, h = single_face(photo).box
        crop = photo[int(y + inset * h) : int(y + h - inset * h), int(x + inset * w) : int(x + w - inset * w)]
        close_up = resized(np.ascontiguousarray(crop), 400 / crop.shape[1])

        faces = engine.detect(close_up)
        if not faces:
            continue
        found += 1
        face = faces[0]
        assert_plausible_face(face)
        # The face overflows the frame, so its box is at least about as big as the frame.
        assert face.box[2] >= 0.9 * close_up.shape[1], (person, face.box)
        assert face.box[3] >= 0.9 * close_up.shape[0], (person, face.box)
    print(f"close-ups: faces found in {found}/{len(CLOSE_UPS)}")
    assert found >= len(CLOSE_UPS) - 2


# -- faces at the border -------------------------------------------------------


@pytest.mark.parametrize("side", ["left", "right", "top", "bottom"])
@pytest.mark.parametrize("person, number", [("Colin_Powell", 1), ("George_W_Bush", 1), ("Tony_Blair", 2)])
def test_a_face_cut_by_the_image_border_is_still_found(
    engine: FaceEngine, lfw_photo, single_face, person, number, side
) -> None:
    photo = lfw_photo(person, number)
    full = single_face(photo)
    x, y, w, h = (int(round(v)) for v in full.box)
    cut = 0.15  # the border runs through the face box, 15% of its size inside
    if side == "left":
        x0 = x + int(cut * w)
        part, shift = photo[:, x0:], (x0, 0)
    elif side == "right":
        part, shift = photo[:, : x + w - int(cut * w)], (0, 0)
    elif side == "top":
        y0 = y + int(cut * h)
        part, shift = photo[y0:], (0, y0)
    else:
        part, shift = photo[: y + h - int(cut * h)], (0, 0)
    part = np.ascontiguousarray(part)

    faces = engine.detect(part)
    assert faces, f"no face once the {side} border cuts the face"
    face = primary_face(faces, part.shape)
    assert_plausible_face(face)
    # the eyes are where they were in the full photo
    eyes_error = np.abs(face.landmarks[:2] + shift - full.landmarks[:2]).max()
    assert eyes_error < 0.3 * full.eye_distance, eyes_error
    # and the cut face still matches the full one
    assert cosine(engine.embed(part, face), engine.embed(photo, full)) > 0.6


# -- face size range -------------------------------------------------------------


def test_a_small_face_of_about_40_px_is_found(engine: FaceEngine, lfw_photo, single_face) -> None:
    photo = lfw_photo("George_W_Bush", 1)
    factor = 40 / single_face(photo).box[2]
    small = resized(photo, factor)
    frame = on_canvas(small, (320, 320), (140, 100))

    faces = engine.detect(frame)
    assert len(faces) == 1
    face = faces[0]
    assert_plausible_face(face, frame.shape)
    assert 28 < face.box[2] < 56, face.box
    cx, cy = face.center
    assert 100 < cx < 100 + small.shape[1] and 140 < cy < 140 + small.shape[0]


def test_a_large_face_of_about_600_px_is_found(engine: FaceEngine, lfw_photo, single_face) -> None:
    photo = lfw_photo("George_W_Bush", 1)
    original = single_face(photo)
    factor = 600 / original.box[2]
    big = resized(photo, factor)
    cx, cy = (int(v * factor) for v in original.center)
    top, left = max(0, cy - 500), max(0, cx - 500)
    frame = np.ascontiguousarray(big[top : top + 1000, left : left + 1000])
    assert frame.shape == (1000, 1000, 3)

    faces = engine.detect(frame)
    assert len(faces) >= 1
    face = faces[0]
    assert_plausible_face(face, frame.shape)
    assert 450 < face.box[2] < 750, face.box
    assert np.hypot(face.center[0] - 500, face.center[1] - 500) < 100


def test_faces_in_large_photos_are_found_after_downscaling(engine: FaceEngine, datasets: Path) -> None:
    files = sorted((datasets / "face-recognition-examples" / "images").glob("*/*"))
    files = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    assert len(files) >= 10
    missed = []
    for path in files:
        photo = load_image(path, max_side=1024)
        assert max(photo.shape[:2]) <= 1024
        faces = engine.detect(photo)
        if not faces:
            missed.append(path.name)
            continue
        assert_plausible_face(primary_face(faces, photo.shape), photo.shape, frontal=False)
    print(f"face-recognition-examples: faces found in {len(files) - len(missed)}/{len(files)}")
    assert not missed


def test_a_12_megapixel_jpeg_is_downscaled_and_its_face_found(
    engine: FaceEngine, lfw_photo, single_face, tmp_path: Path
) -> None:
    photo = lfw_photo("Tony_Blair", 2)
    original = single_face(photo)
    big = np.ascontiguousarray(on_canvas(resized(photo, 8.0), (3000, 4000), (500, 1000)))
    path = tmp_path / "camera.jpg"
    Image.fromarray(big).save(path, quality=90)
    with Image.open(path) as stored:
        assert stored.size == (4000, 3000)

    loaded = load_image(path)  # working size: 2048 on the long side
    assert loaded.shape == (1536, 2048, 3)
    faces = engine.detect(loaded)
    assert len(faces) == 1
    face = faces[0]
    assert_plausible_face(face, loaded.shape)
    scale = 2048 / 4000
    expected_center = ((1000 + 8 * original.center[0]) * scale, (500 + 8 * original.center[1]) * scale)
    assert np.hypot(face.center[0] - expected_center[0], face.center[1] - expected_center[1]) < 40
    assert 8 * original.box[2] * scale * 0.8 < face.box[2] < 8 * original.box[2] * scale * 1.25


# -- several faces ---------------------------------------------------------------


def test_group_photos_have_several_faces(engine: FaceEngine, datasets: Path) -> None:
    files = sorted((datasets / "group-photos" / "images").glob("*.jpg"))
    assert len(files) >= 10
    counts = {}
    for path in files:
        photo = load_image(path)
        faces = engine.detect(photo)
        counts[path.name] = len(faces)
        assert len(faces) >= 2, path.name
        areas = [f.box[2] * f.box[3] for f in faces]
        assert areas == sorted(areas, reverse=True)  # largest first
        for face in faces:
            assert_plausible_face(face, photo.shape, frontal=False)
        assert primary_face(faces, photo.shape) in faces
    print("faces per group photo:", counts)
    assert counts["deepface_selfie-many-people.jpg"] >= 5
    assert counts["facenet_pytorch_multiface.jpg"] >= 5


def test_primary_face_is_the_big_central_passenger_not_the_bystander(engine: FaceEngine, lfw_photo) -> None:
    passenger = resized(lfw_photo("Colin_Powell", 2), 1.6)  # 400x400, face ~130 px
    bystander = resized(lfw_photo("Hugo_Chavez", 1), 0.9)  # 225x225, face ~75 px
    frame = on_canvas(passenger, (600, 900), (100, 250))
    frame[20 : 20 + 225, 0:225] = bystander  # at the top-left edge

    faces = engine.detect(frame)
    assert len(faces) == 2
    chosen = primary_face(faces, frame.shape)
    assert np.hypot(chosen.center[0] - 450, chosen.center[1] - 300) < 60
    other = next(f for f in faces if f is not chosen)
    assert chosen.eye_distance > other.eye_distance
    # the order the detector reports them in does not matter
    assert primary_face(list(reversed(faces)), frame.shape) is chosen


def test_primary_face_prefers_the_central_one_of_two_equal_faces(engine: FaceEngine, lfw_photo) -> None:
    face_photo = lfw_photo("Tony_Blair", 2)
    frame = on_canvas(face_photo, (400, 1000), (75, 375))  # centred
    frame[75:325, 0:250] = face_photo  # the same face, same size, at the left edge

    faces = engine.detect(frame)
    assert len(faces) == 2
    chosen = primary_face(faces, frame.shape)
    assert abs(chosen.center[0] - 500) < 40
    assert primary_face(list(reversed(faces)), frame.shape) is chosen


# -- threads and buffers ---------------------------------------------------------

def test_one_engine_shared_by_four_threads_gives_the_serial_results(
    engine: FaceEngine, lfw_photo, datasets: Path
) -> None:
    # Eight photos of different sizes: a detector shared between threads would be
    # resized under another thread's feet.
    photos = {
        "Colin_Powell_0001": lfw_photo("Colin_Powell", 1),
        "George_W_Bush_0001 x1.6": resized(lfw_photo("George_W_Bush", 1), 1.6),
        "Tony_Blair_0002 x0.7": resized(lfw_photo("Tony_Blair", 2), 0.7),
        "Serena_Williams_0001": lfw_photo("Serena_Williams", 1),
        "Hugo_Chavez_0001 on 640x480": on_canvas(lfw_photo("Hugo_Chavez", 1), (480, 640), (100, 300)),
        "orl s1/1": load_image(datasets / "orl-att-faces" / "images" / "s1" / "1.pgm"),
        "obama.jpg": load_image(datasets / "face-recognition-examples" / "images" / "Barack_Obama" / "obama.jpg"),
        "two_people": load_image(datasets / "group-photos" / "images" / "face_recognition_two_people.jpg"),
    }
    names = list(photos)

    def work(name: str) -> tuple[str, list[Face], np.ndarray]:
        photo = photos[name]
        faces = engine.detect(photo)
        return name, faces, engine.embed(photo, faces[0])

    serial = {name: work(name) for name in names}
    rng = random.Random(3)
    with ThreadPoolExecutor(max_workers=4) as pool:
        rounds = []
        for _ in range(3):
            order = names * 2
            rng.shuffle(order)
            rounds.append(list(pool.map(work, order)))
    for results in rounds:
        for name, faces, vector in results:
            _, serial_faces, serial_vector = serial[name]
            assert len(faces) == len(serial_faces), name
            for face, expected in zip(faces, serial_faces):
                assert np.allclose(face.box, expected.box, atol=1e-4), name
                assert np.allclose(face.landmarks, expected.landmarks, atol=1e-4), name
                assert abs(face.score - expected.score) < 1e-6, name
            assert np.allclose(vector, serial_vector, atol=1e-6), name


def test_an_embedding_is_not_overwritten_by_the_next_one(engine: FaceEngine, lfw_photo, single_face) -> None:
    first_photo, second_photo = lfw_photo("Colin_Powell", 1), lfw_photo("Serena_Williams", 1)
    first_face, second_face = single_face(first_photo), single_face(second_photo)

    first = engine.embed(first_photo, first_face)
    kept = first.copy()
    second = engine.embed(second_photo, second_face)

    assert np.array_equal(first, kept)  # still the first photo's vector
    assert not np.allclose(first, second)
    assert cosine(first, second) < 0.5
    assert not np.shares_memory(first, second)

    # the same through align + embed_aligned
    a = engine.embed_aligned(engine.align(first_photo, first_face))
    b = engine.embed_aligned(engine.align(second_photo, second_face))
    assert np.array_equal(a, kept) and np.array_equal(b, second)
