"""The image layer's S3 client is one per process, shared by every thread (the container runs 128 per process;
boto3 clients are thread-safe), and made on first use."""
import threading


def test_two_threads_get_the_same_s3_client(aws):
    from omcommerce import media

    got = []
    barrier = threading.Barrier(2)

    def take():
        barrier.wait(30)  # both ask at once, before either has made one
        got.append(media.s3())

    threads = [threading.Thread(target=take) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 2 and got[0] is got[1]
    assert media.s3() is got[0]  # and the main thread's too
